// outsider HTML report: sort and filter the evidence tables, show raw rows,
// filter the verdict table.
// DOM methods only (createElement, setAttribute, append, textContent,
// hidden, open, classList): no HTML is ever parsed from strings, which
// the page's Trusted Types policy would refuse anyway. Without this script
// the page still shows every row, without controls, and each raw row is a
// plain <details>.
(function () {
  "use strict";
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };

  var make = function (tag, props, kids) {
    var e = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) { e.setAttribute(k, props[k]); });
    (kids || []).forEach(function (k) { e.append(k); });
    return e;
  };

  // The controls and the sort buttons exist only where the script runs:
  // they are built here, from the rows, rather than sent in the page for
  // every table (hundreds at partner scale).
  each(document.querySelectorAll("table.evidence"), function (table) {
    if (!table.tBodies.length || !table.tHead) { return; }
    var body = table.tBodies[0];
    var ops = {};
    each(body.querySelectorAll("tr.ev"), function (row) {
      var op = row.getAttribute("data-op");
      ops[op] = (ops[op] || 0) + 1;
    });
    var select = make("select", {"class": "op-filter"});
    select.append(make("option", {value: ""}, ["all (" + body.querySelectorAll("tr.ev").length + ")"]));
    Object.keys(ops).sort().forEach(function (op) {
      select.append(make("option", {value: op}, [op + " (" + ops[op] + ")"]));
    });
    var search = make("input", {type: "search", "class": "text-filter", autocomplete: "off", spellcheck: "false"});
    var toggleAll = make("button", {type: "button", "class": "raw-toggle"}, ["show all raw"]);
    var shown = make("span", {"class": "shown", "aria-live": "polite"});
    var controls = make("div", {"class": "controls", "data-table": table.id},
      [make("label", {}, ["operation ", select]), make("label", {}, ["contains ", search]), toggleAll, shown]);
    (table.parentNode.classList.contains("scroll") ? table.parentNode : table).before(controls);
    var headers = table.tHead.rows[0].cells;
    each(headers, function (th, i) {
      if (th.classList.contains("raw")) { return; }
      var b = make("button", {type: "button", "class": "sort", "data-col": String(i)});
      b.append.apply(b, Array.prototype.slice.call(th.childNodes));
      th.append(b);
    });

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

    apply();
  });
  // The verdict table: filter by verdict and by severity, read from the
  // rows' own cells, so the table stays plain without the script.
  each(document.querySelectorAll("table.summary"), function (table) {
    if (!table.tBodies.length) { return; }
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var filters = [["severity", 1], ["verdict", 2]].map(function (f) {
      var counts = {}, order = [];
      rows.forEach(function (row) {
        var v = row.cells[f[1]].textContent;
        if (!(v in counts)) { counts[v] = 0; order.push(v); }
        counts[v]++;
      });
      var select = make("select", {"class": f[0] + "-filter"});
      select.append(make("option", {value: ""}, ["all (" + rows.length + ")"]));
      order.forEach(function (v) { select.append(make("option", {value: v}, [v + " (" + counts[v] + ")"])); });
      return {name: f[0], col: f[1], select: select};
    });
    var shown = make("span", {"class": "shown", "aria-live": "polite"});
    var controls = make("div", {"class": "controls", "data-table": "summary"},
      filters.map(function (f) { return make("label", {}, [f.name + " ", f.select]); }).concat([shown]));
    (table.parentNode.classList.contains("scroll") ? table.parentNode : table).before(controls);
    function apply() {
      var n = 0;
      rows.forEach(function (row) {
        var ok = filters.every(function (f) { return f.select.value === "" || row.cells[f.col].textContent === f.select.value; });
        row.hidden = !ok;
        if (ok) { n++; }
      });
      shown.textContent = "showing " + n + " of " + rows.length;
    }
    filters.forEach(function (f) { f.select.addEventListener("change", apply); });
    apply();
  });

  document.documentElement.setAttribute("data-script", "ready");
})();
