// The explorer page: selecting a folder opens it, uploads (files, a folder, or dropped
// items) with their progress, then the import tasks' state (an htmx partial that polls).
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  // Selecting a folder in the tree also opens it (its children load on "toggle").
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".tree a.node") : null;
    if (!link) return;
    var summary = link.closest("summary");
    if (summary && summary.parentElement && !summary.parentElement.open) {
      summary.parentElement.open = true;
    }
  });

  // The selected node is highlighted in the tree.
  document.addEventListener("htmx:afterSettle", function () {
    var node = $("node");
    var uri = node ? node.getAttribute("data-uri") : null;
    document.querySelectorAll(".tree a.node").forEach(function (a) {
      a.classList.toggle("selected", a.getAttribute("data-uri") === uri);
    });
  });

  function note(text) {
    var el = $("upload-note");
    if (el) el.textContent = text;
  }

  function errorText(body) {
    if (!body) return "upload failed";
    if (typeof body.error === "string" && body.error.indexOf("<") === -1) return body.error;
    if (typeof body.detail === "string") return body.detail;
    if (body.error && typeof body.error === "object" && body.error.message) return body.error.message;
    if (typeof body.error === "string") {
      var doc = new DOMParser().parseFromString(body.error, "text/html");
      var shown = doc.querySelector(".error p") || doc.querySelector(".error") || doc.body;
      return (shown.textContent || "upload failed").trim();
    }
    return "upload failed";
  }

  // items: [{file, path}] with path relative to what was chosen or dropped.
  function send(items) {
    var card = $("upload");
    if (!card || !items.length) return;
    var data = new FormData();
    data.append("parent", $("upload-parent").value);
    items.forEach(function (item) {
      data.append("files", item.file, item.file.name);
      data.append("paths", item.path);
    });
    var bar = $("upload-progress");
    bar.hidden = false;
    bar.value = 0;
    $("task-box").innerHTML = "";
    note("Uploading " + items.length + " file" + (items.length === 1 ? "" : "s") + "…");
    window.ovConsole.upload(card.getAttribute("data-upload-url"), data, function (fraction) {
      bar.value = Math.round(fraction * 100);
    }).then(function (body) {
      bar.value = 100;
      note("Uploaded; importing " + body.tasks.map(function (t) { return t.root_uri; }).join(", "));
      window.htmx.ajax("GET", body.status_url, {target: "#task-box", swap: "innerHTML"});
    }, function (body) {
      bar.hidden = true;
      note("");
      $("task-box").innerHTML = "";
      var status = document.createElement("p");
      status.id = "task-status";
      status.className = "bad";
      status.textContent = "Upload failed: " + errorText(body);
      $("task-box").appendChild(status);
    });
  }

  function fromInput(input, relative) {
    var items = Array.prototype.map.call(input.files, function (file) {
      return {file: file, path: (relative && file.webkitRelativePath) || file.name};
    });
    input.value = "";
    send(items);
  }

  // A dropped folder is walked with the entries API; files keep their relative paths.
  function readEntry(entry, prefix, out) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (file) {
          out.push({file: file, path: prefix + file.name});
          resolve();
        }, function () { resolve(); });
        return;
      }
      var reader = entry.createReader();
      var all = [];
      function next() {
        reader.readEntries(function (batch) {
          if (!batch.length) {
            Promise.all(all.map(function (child) {
              return readEntry(child, prefix + entry.name + "/", out);
            })).then(resolve);
            return;
          }
          all = all.concat(Array.prototype.slice.call(batch));
          next();
        }, function () { resolve(); });
      }
      next();
    });
  }

  function onDrop(event) {
    event.preventDefault();
    event.currentTarget.classList.remove("over");
    var transfer = event.dataTransfer;
    var entries = [];
    if (transfer.items) {
      Array.prototype.forEach.call(transfer.items, function (item) {
        var entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
        if (entry) entries.push(entry);
      });
    }
    if (!entries.length) {
      send(Array.prototype.map.call(transfer.files, function (f) { return {file: f, path: f.name}; }));
      return;
    }
    var out = [];
    Promise.all(entries.map(function (e) { return readEntry(e, "", out); })).then(function () {
      send(out);
    });
  }

  function setUp() {
    var zone = $("dropzone");
    if (!zone) return;
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", onDrop);
    $("upload-files").addEventListener("change", function (e) { fromInput(e.target, false); });
    $("upload-folder").addEventListener("change", function (e) { fromInput(e.target, true); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
