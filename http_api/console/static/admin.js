// The admin pages: copy a newly shown key to the clipboard (the box is swapped in by htmx,
// so the click is handled on the document) and empty the create forms once they succeeded.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    }, function () {
      button.textContent = "Select and copy";
    });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (!form || !event.detail.successful || form.tagName !== "FORM") return;
    if (form.id === "create-account" || form.id === "add-user") form.reset();
  });
})();
