// A form with data-confirm asks before it submits (the CSP allows no inline onsubmit handlers).
// data-confirm-from names an element whose current text leads the question (a live count). While
// htmx is still refreshing that text (a choice just changed), the question waits for the new text,
// so it never names fewer guides or customers than will be moved.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset) return;
  let message = form.dataset.confirm || "";
  const source = form.dataset.confirmFrom && document.querySelector(form.dataset.confirmFrom);
  if (source && document.querySelector(".htmx-request")) {
    event.preventDefault();
    const submitter = event.submitter;
    document.body.addEventListener("htmx:afterSettle", () => form.requestSubmit(submitter), { once: true });
    return;
  }
  if (source) message = source.textContent.trim() + message;
  if (message && !window.confirm(message)) event.preventDefault();
}, true);
