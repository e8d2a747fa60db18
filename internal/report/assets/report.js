// outsider HTML report: sort and filter the evidence tables, show raw rows.
// DOM properties only (textContent, hidden, open, classList): no HTML is
// ever parsed from strings, which the page's Trusted Types policy would
// refuse anyway. Without this script the page still shows every row, and
// each raw row is a plain <details>.
(function () {
  "use strict";
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };

  each(document.querySelectorAll(".controls[data-table]"), function (controls) {
    var table = document.getElementById(controls.getAttribute("data-table"));
    if (!table || !table.tBodies.length) { return; }
    var body = table.tBodies[0];
    var select = controls.querySelector("select.op-filter");
    var search = controls.querySelector("input.text-filter");
    var shown = controls.querySelector(".shown");
    var toggleAll = controls.querySelector("button.raw-toggle");
    var headers = table.tHead.rows[0].cells;

    // Each evidence row is followed by its raw row; they move together.
    var rows = Array.prototype.slice.call(body.querySelectorAll("tr.ev"));
    rows.forEach(function (row) {
      var raw = row.nextElementSibling;
      var button = row.querySelector("button.raw-btn");
      row.raw = raw;
      row.expanded = false;
      raw.hidden = true;
      button.hidden = false;
      button.addEventListener("click", function () { expand(row, !row.expanded); });
    });

    function expand(row, open) {
      row.expanded = open;
      row.raw.hidden = !open || row.hidden;
      row.raw.querySelector("details").open = open;
      row.classList.toggle("expanded", open);
      row.querySelector("button.raw-btn").setAttribute("aria-expanded", open ? "true" : "false");
    }

    function apply() {
      var op = select.value, q = search.value.toLowerCase(), n = 0;
      rows.forEach(function (row) {
        var ok = (op === "" || row.getAttribute("data-op") === op) &&
          (q === "" || row.textContent.toLowerCase().indexOf(q) >= 0);
        row.hidden = !ok;
        row.raw.hidden = !ok || !row.expanded;
        if (ok) { n++; }
      });
      shown.textContent = "showing " + n + " of " + rows.length;
    }
    select.addEventListener("change", apply);
    search.addEventListener("input", apply);

    each(table.querySelectorAll("button.sort"), function (button) {
      button.addEventListener("click", function () {
        var col = Number(button.getAttribute("data-col"));
        var th = button.parentNode;
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        each(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent, y = b.cells[col].textContent;
          if (x !== y) { return x < y ? -dir : dir; }
          return Number(a.getAttribute("data-i")) - Number(b.getAttribute("data-i"));
        });
        rows.forEach(function (row) { body.appendChild(row); body.appendChild(row.raw); });
      });
    });

    toggleAll.addEventListener("click", function () {
      var open = toggleAll.getAttribute("aria-pressed") !== "true";
      rows.forEach(function (row) { expand(row, open); });
      toggleAll.setAttribute("aria-pressed", open ? "true" : "false");
      toggleAll.textContent = open ? "hide all raw" : "show all raw";
    });

    controls.hidden = false;
    apply();
  });
  document.documentElement.setAttribute("data-script", "ready");
})();
