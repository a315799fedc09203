// The inbox asks for its rows again every second and replaces them when they changed, so a new referral
// appears without a reload. Without JavaScript the page still works: reload it to see new referrals.
(function () {
  "use strict";
  var rows = document.getElementById("inbox-rows");
  if (!rows) { return; }
  var every = parseInt(rows.getAttribute("data-poll-ms"), 10) || 1000;
  var source = rows.getAttribute("data-src");
  var last = rows.innerHTML.trim();
  function ask() {
    fetch(source, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (answer) {
        if (answer.status === 401) { window.location.reload(); return null; }  // signed out: the page says so
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        if (html !== null && html.trim() !== last) { rows.innerHTML = html; last = html.trim(); }
      })
      .catch(function () { /* the next round tries again */ })
      .then(function () { window.setTimeout(ask, every); });
  }
  window.setTimeout(ask, every);
}());
