// A form with data-confirm asks before it submits (the CSP allows no inline onsubmit handlers).
// data-confirm-from names an element whose current text leads the question (a live count).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset) return;
  let message = form.dataset.confirm || "";
  const source = form.dataset.confirmFrom && document.querySelector(form.dataset.confirmFrom);
  if (source) message = source.textContent.trim() + message;
  if (message && !window.confirm(message)) event.preventDefault();
}, true);
