/* Store-code page: ask the browser for the customer's position once, then reload sorted by distance. */
(function () {
  "use strict";
  var page = document.querySelector(".sc-page");
  if (!page || page.dataset.located === "1" || !navigator.geolocation) return;
  var button = document.querySelector("[data-role=locate]");
  var error = document.querySelector("[data-role=locate-error]");
  var asked = "scLocateAsked";

  function locate() {
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        var url = new URL(window.location.href);
        url.searchParams.set("lat", pos.coords.latitude.toFixed(5));
        url.searchParams.set("lng", pos.coords.longitude.toFixed(5));
        window.location.replace(url.toString());
      },
      function () {
        if (error) error.hidden = false;
      },
      { enableHighAccuracy: false, timeout: 8000, maximumAge: 600000 }
    );
  }

  if (button) button.addEventListener("click", locate);
  // Ask by itself once per session; after a refusal the list by store stays and the button remains.
  try {
    if (!window.sessionStorage.getItem(asked)) {
      window.sessionStorage.setItem(asked, "1");
      locate();
    }
  } catch (e) {
    /* storage blocked: wait for the button */
  }
})();
