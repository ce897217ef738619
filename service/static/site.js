// Sorting and filtering the authorities table in place, and focus on a form's
// error summary. Without JavaScript the column headings are links and the
// filters a form: the server sorts and filters.
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    var raw = cell ? (cell.getAttribute("data-value") || cell.textContent.trim()) : "";
    return numeric ? Number(raw) : raw.toLowerCase();
  }

  function sortBy(table, header) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var index = headers.indexOf(header);
    var numeric = header.hasAttribute("data-numeric");
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      if (order === 0) { order = cellValue(a, 0, false) < cellValue(b, 0, false) ? -1 : 1; }
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headers.forEach(function (h) { h.setAttribute("aria-sort", h === header ? (ascending ? "ascending" : "descending") : "none"); });
    var link = header.querySelector("a.sort");
    if (window.history && link) {
      var url = new URL(link.href);
      url.searchParams.set("dir", ascending ? "asc" : "desc");
      window.history.replaceState(null, "", url.pathname + url.search);
    }
  }

  function applyFilters(form, table, status) {
    var name = (form.querySelector("[data-filter=name]").value || "").toLowerCase();
    var region = form.querySelector("[data-filter=region]").value;
    var grade = form.querySelector("[data-filter=grade]").value;
    var regime = form.querySelector("[data-filter=regime]").value;
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var keep = (!name || r.getAttribute("data-name").toLowerCase().indexOf(name) !== -1) &&
        (!region || r.getAttribute("data-region") === region) &&
        (!grade || r.getAttribute("data-grade") === grade) &&
        (!regime || r.getAttribute("data-regime").split(" and ").indexOf(regime) !== -1);
      r.hidden = !keep;
      if (keep) { shown++; }
    }
    if (status) { status.textContent = "Showing " + shown + " of " + rows.length + " authorities."; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }  // a refused form: start at the list of what to fix
    var table = document.getElementById("authorities");
    if (!table) { return; }
    table.tHead.addEventListener("click", function (event) {
      var link = event.target.closest("a.sort");
      if (!link) { return; }
      event.preventDefault();
      sortBy(table, link.closest("th"));
    });
    var form = document.getElementById("filters");
    var status = document.getElementById("row-count");
    if (form && table.getAttribute("data-complete") === "true") {
      // Live filtering only when every authority is in the table (the server did not filter it already).
      form.addEventListener("input", function () { applyFilters(form, table, status); });
      form.addEventListener("change", function () { applyFilters(form, table, status); });
    }
  });
})();
