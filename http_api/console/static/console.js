// Shared console helpers. Page scripts use window.ovConsole; no inline scripts (the
// Content-Security-Policy allows only scripts from this server).
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  // POST a FormData with the CSRF header; onProgress(fraction) follows the upload.
  function upload(url, data, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
      };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {error: xhr.responseText}; }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body); else reject(body);
      };
      xhr.onerror = function () { reject({error: "network error"}); };
      xhr.send(data);
    });
  }
  window.ovConsole = {csrf: csrf, upload: upload};
})();
