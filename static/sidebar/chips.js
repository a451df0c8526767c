/* Filter chip rows scroll sideways on a phone: keep the chosen chip in sight (e.g. 备注, last but one,
 * when the timeline opens with ?group=note). Plain ES2017; loaded with every swap of the feed. */
(function () {
  "use strict";

  function reveal() {
    document.querySelectorAll(".chips").forEach(function (row) {
      var chip = row.querySelector(".chip.on");
      if (!chip || row.scrollWidth <= row.clientWidth) return;
      var box = row.getBoundingClientRect();
      var at = chip.getBoundingClientRect();
      // Only the row scrolls sideways (scrollIntoView would also move the page up or down).
      if (at.left < box.left || at.right > box.right) row.scrollLeft += at.left - box.left - (box.width - at.width) / 2;
    });
  }

  reveal();
  if (window.sidebarChips) return;
  document.addEventListener("htmx:afterSettle", reveal);
  window.sidebarChips = { reveal: reveal };
})();
