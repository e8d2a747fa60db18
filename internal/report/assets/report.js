// outsider HTML report: sort and filter the evidence tables, show raw rows,
// filter the verdict table by severity, verdict and partner.
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

  // The timelines' activity (a) and sharing (h) marks get their titles
  // (time and operation) from the rows they stand for, in the same order,
  // before any table is sorted; a timeline whose marks and rows do not
  // pair up was sent with its titles.
  each(document.querySelectorAll("details.identity"), function (card) {
    var svg = card.querySelector("figure svg");
    if (!svg) { return; }
    [["a", "table.evidence", function (c) { return c[0].textContent + " " + c[1].textContent; }],
      ["h", "table.sharing", function (c) { return c[0].textContent + " " + c[2].textContent + " by " + c[1].textContent; }]].forEach(function (k) {
      var marks = Array.prototype.filter.call(svg.querySelectorAll("circle." + k[0]), function (m) { return !m.firstChild; });
      var table = card.querySelector(k[1]);
      var rows = table ? Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.classList.contains("ev-raw"); }) : [];
      if (!marks.length || marks.length !== rows.length) { return; }
      marks.forEach(function (m, i) {
        var t = document.createElementNS(svg.namespaceURI, "title");
        t.textContent = k[2](rows[i].cells).trim();
        m.append(t);
      });
    });
  });

  // The controls, the sort buttons and the raw column exist only where
  // the script runs: they are built here, from the rows, rather than sent
  // in the page for every table (hundreds at partner scale).
  each(document.querySelectorAll("table.evidence"), function (table) {
    if (!table.tBodies.length || !table.tHead) { return; }
    var body = table.tBodies[0];
    // The rows as sent; a row whose values are shown escaped is followed
    // by its raw row (the exact JSON), the others get theirs on demand.
    var rows = Array.prototype.filter.call(body.rows, function (r) { return !r.classList.contains("ev-raw"); });
    var ops = {};
    rows.forEach(function (row, i) {
      var op = row.cells[1].textContent;
      ops[op] = (ops[op] || 0) + 1;
      row.classList.add("ev");
      row.index = i;
      row.expanded = false;
      var next = row.nextElementSibling;
      row.raw = next && next.classList.contains("ev-raw") ? next : null;
      if (row.raw) { row.raw.hidden = true; row.raw.cells[0].setAttribute("colspan", "8"); }
      var button = make("button", {type: "button", "class": "raw-btn", "aria-expanded": "false"}, ["raw"]);
      button.addEventListener("click", function () { expand(row, !row.expanded); });
      row.append(make("td", {"class": "raw"}, [button]));
    });
    table.tHead.rows[0].append(make("th", {"class": "raw"}));
    var select = make("select", {"class": "op-filter"});
    select.append(make("option", {value: ""}, ["all (" + rows.length + ")"]));
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

    // rawRow is the row as JSON, built from its cells (the last, the file
    // and line, ends with the line break before the next row).
    function rawRow(row) {
      if (row.raw) { return row.raw; }
      var c = row.cells, id = c[5].textContent, source = c[6].textContent.trim();
      var json = JSON.stringify({time: c[0].textContent, operation: c[1].textContent, user: c[2].textContent,
        ip: c[3].textContent, object: c[4].textContent, record_id: id, source: source}, null, 2);
      row.raw = make("tr", {"class": "ev-raw"}, [make("td", {colspan: "8"}, [make("details", {}, [
        make("summary", {}, ["raw: the evidence row of record " + id]), make("pre", {}, [json]),
        make("p", {"class": "note"}, ["This is the row as the report carries it; the full audit record is at " + source + "."])])])]);
      row.raw.hidden = true;
      row.after(row.raw);
      return row.raw;
    }

    function expand(row, open) {
      if (!open && !row.raw) { return; }
      var raw = rawRow(row);
      row.expanded = open;
      raw.hidden = !open || row.hidden;
      raw.querySelector("details").open = open;
      row.classList.toggle("expanded", open);
      row.querySelector("button.raw-btn").setAttribute("aria-expanded", open ? "true" : "false");
    }

    function apply() {
      var op = select.value, q = search.value.toLowerCase(), n = 0;
      rows.forEach(function (row) {
        var ok = (op === "" || row.cells[1].textContent === op) &&
          (q === "" || row.textContent.toLowerCase().indexOf(q) >= 0);
        row.hidden = !ok;
        if (row.raw) { row.raw.hidden = !ok || !row.expanded; }
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
          return a.index - b.index;
        });
        rows.forEach(function (row) { body.appendChild(row); if (row.raw) { body.appendChild(row.raw); } });
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
  // The verdict table, one body per verdict: filter by severity, verdict
  // and partner, read from the rows' own cells, so the table stays plain
  // without the script. A verdict's heading hides with its last row.
  each(document.querySelectorAll("table.summary"), function (table) {
    var rows = [];
    each(table.tBodies, function (b) { each(b.rows, function (r) { if (!r.classList.contains("vg")) { rows.push(r); } }); });
    if (!rows.length) { return; }
    var filters = [["severity", 1, false], ["verdict", 2, false], ["partner", 4, true]].map(function (f) {
      var counts = {}, order = [];
      rows.forEach(function (row) {
        var v = row.cells[f[1]].textContent;
        if (!(v in counts)) { counts[v] = 0; order.push(v); }
        counts[v]++;
      });
      // Severities and verdicts in the table's order; partners by name.
      if (f[2]) { order.sort(); }
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
      each(table.tBodies, function (b) {
        b.hidden = Array.prototype.every.call(b.rows, function (r) { return r.classList.contains("vg") || r.hidden; });
      });
      shown.textContent = "showing " + n + " of " + rows.length;
    }
    filters.forEach(function (f) { f.select.addEventListener("change", apply); });
    apply();
  });

  document.documentElement.setAttribute("data-script", "ready");
})();
