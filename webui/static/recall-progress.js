// The recall request page follows its request: it polls the page's JSON twin and updates
// the counts, the bytes, the bar and each file's row until no file waits, then reloads
// once so the pins show. Without scripts the page is still right when reloaded by hand.
(function () {
  "use strict";
  var section = document.getElementById("recall-progress");
  if (!section || section.dataset.done === "true") { return; }
  var rows = new Map();
  document.querySelectorAll("#recall-files tr[data-lfn]").forEach(function (row) {
    rows.set(row.dataset.lfn, row);
  });
  var units = ["B", "kB", "MB", "GB", "TB", "PB"];
  function bytes(n) {
    var i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
    return (i === 0 ? String(n) : n.toFixed(1)) + " " + units[i];
  }
  function set(id, text) {
    var cell = document.getElementById(id);
    if (cell) { cell.textContent = text; }
  }
  function show(data) {
    ["waiting", "ready", "failed", "total"].forEach(function (state) {
      set("count-" + state, data.counts[state].toLocaleString("en").replace(/,/g, "\u202f"));
      set("bytes-" + state, bytes(data.bytes[state]));
    });
    var bar = document.getElementById("recall-bar");
    bar.max = data.counts.total;
    bar.value = data.counts.ready + data.counts.failed;
    data.files.forEach(function (f) {
      var row = rows.get(f.lfn);
      if (!row) { return; }
      row.querySelector(".state").textContent = f.state;
      row.querySelector(".area").textContent = f.area || "";
      row.querySelector(".where").textContent = f.path || f.error || "";
    });
  }
  var delay = 1000;
  function poll() {
    fetch(section.dataset.source, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        show(data);
        if (data.done) {
          set("recall-state", "Done: no file is waiting.");
          window.location.reload();
          return;
        }
        delay = Math.min(delay * 1.5, 5000);
        setTimeout(poll, delay);
      })
      .catch(function (error) {
        set("recall-state", "Could not read the progress (" + error.message + "); retrying.");
        delay = Math.min(delay * 2, 15000);
        setTimeout(poll, delay);
      });
  }
  setTimeout(poll, delay);
}());
