// The つなぐシート shows the birth date in both calendars while it is typed (昭和25年（1950年）5月5日). The eras come
// from the page (data-eras, the server's table), so this script and the server cannot disagree on them. Without
// JavaScript the server shows the same line after a submit with a problem.
(function () {
  "use strict";
  var shown = document.getElementById("birth-era");
  if (!shown) { return; }
  var eras = JSON.parse(shown.getAttribute("data-eras"));  // newest first: [key, ja, en, "YYYY-MM-DD"]
  var english = document.documentElement.lang === "en";
  var parts = ["birth_era", "birth_year", "birth_month", "birth_day"].map(function (id) {
    return document.getElementById(id);
  });
  function iso(y, m, d) { return String(y).padStart(4, "0") + "-" + String(m).padStart(2, "0") + "-" + String(d).padStart(2, "0"); }
  function update() {
    var written = parts[1].value.normalize("NFKC").trim().replace(/年$/, "");
    var year = written === "元" ? 1 : parseInt(written, 10);
    var month = parseInt(parts[2].value, 10), day = parseInt(parts[3].value, 10);
    if (!year || !month || !day) { shown.textContent = ""; return; }
    var chosen = eras.filter(function (e) { return e[0] === parts[0].value; })[0];
    if (chosen) { year = parseInt(chosen[3].slice(0, 4), 10) + year - 1; }
    var when = new Date(Date.UTC(year, month - 1, day));
    if (when.getUTCMonth() !== month - 1) { shown.textContent = ""; return; }
    var date = iso(year, month, day);
    var era = eras.filter(function (e) { return date >= e[3]; })[0];
    if (!era) { shown.textContent = english ? "" : year + "年" + month + "月" + day + "日"; return; }
    var inEra = year - parseInt(era[3].slice(0, 4), 10) + 1;
    if (chosen && chosen[0] !== era[0]) { shown.textContent = ""; return; }  // not a date of the era named
    shown.textContent = english ? date + " (" + era[2] + " " + inEra + ")"
      : era[1] + (inEra === 1 ? "元" : inEra) + "年（" + year + "年）" + month + "月" + day + "日";
  }
  parts.forEach(function (part) { part.addEventListener("input", update); part.addEventListener("change", update); });
  update();
}());
