// Sessions page: clear the message form once htmx has stored the message.
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (form && form.id === "add-message" && event.detail.successful) {
      form.reset();
      var content = document.getElementById("message-content");
      if (content) content.focus();
    }
  });
})();
