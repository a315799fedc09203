"""The auditors' page: search a case or referral, read its timeline, see the hand-offs, export CSV or JSON.

A single self-contained page (no external scripts or fonts, since these machines reach no CDN). It calls
the same API, with the auditor's token, so every search is recorded in the ledger like any other query.
"""

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>監査 / Audit — Fujisawa backbone</title>
<style>
 body{font-family:system-ui,"Noto Sans CJK JP",sans-serif;margin:1.5rem;color:#222}
 h1{font-size:1.3rem} table{border-collapse:collapse;width:100%;margin-top:1rem;font-size:.85rem}
 th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top} th{background:#eef}
 code{font-size:.75rem;color:#555} #error{color:#b00} form{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}
 input[type=text],input[type=password]{width:22rem} svg{border:1px solid #ddd;margin-top:1rem;background:#fcfcff}
</style></head><body>
<h1>監査 — 照会 / Audit — trace a case or a referral</h1>
<form id="search">
 <label>監査トークン / auditor token <input type="password" id="token" autocomplete="off"></label>
 <select id="kind"><option value="case_id">ケース / case</option><option value="referral_id">つなぎ / referral</option>
  <option value="trace_id">トレース / trace</option></select>
 <input type="text" id="key" placeholder="id">
 <select id="lang"><option value="ja">日本語</option><option value="en">English</option></select>
 <button type="submit">照会 / Search</button>
 <button type="button" id="csv">CSV</button><button type="button" id="json">JSON</button>
</form>
<p id="error"></p>
<svg id="handoffs" width="900" height="10" role="img" aria-label="hand-offs between agencies"></svg>
<table id="timeline"><thead><tr><th>#</th><th>時刻 / time (JST)</th><th>出来事 / what</th><th>機関 / who</th>
<th>理由 / why</th><th>trace id</th><th>event id</th></tr></thead><tbody></tbody></table>
<script>
const $ = id => document.getElementById(id);
$("token").value = sessionStorage.getItem("auditToken") || "";
function query(){ return `${$("kind").value}=${encodeURIComponent($("key").value.trim())}&language=${$("lang").value}`; }
async function call(path){
  sessionStorage.setItem("auditToken", $("token").value);
  const answer = await fetch(path, {headers: {Authorization: "Bearer " + $("token").value}});
  if(!answer.ok){ const p = await answer.json().catch(() => ({detail: answer.statusText})); throw new Error(p.detail || p.title); }
  return answer;
}
function cell(text){ const td = document.createElement("td"); td.textContent = text; return td; }
function draw(rows){
  const svg = $("handoffs"); svg.innerHTML = "";
  const moves = rows.filter(r => r.data && r.data.from_agency && r.data.to_agency);
  const outcome = {};
  rows.forEach(r => { if(r.data && r.data.referral_id && !r.data.from_agency) outcome[r.data.referral_id] = r.what; });
  const agencies = [...new Set(moves.flatMap(r => [r.data.from_agency, r.data.to_agency]))];
  svg.setAttribute("height", Math.max(60, 70 * agencies.length));
  const y = a => 35 + 70 * agencies.indexOf(a);
  agencies.forEach(a => {
    svg.insertAdjacentHTML("beforeend", `<rect x="10" y="${y(a)-15}" width="230" height="30" rx="6" fill="#e8eefc" stroke="#6b84c7"/>`
      + `<text x="20" y="${y(a)+5}" font-size="13">${a}</text>`);
  });
  moves.forEach((r, i) => {
    const x = 300 + 120 * i, from = y(r.data.from_agency), to = y(r.data.to_agency);
    svg.insertAdjacentHTML("beforeend", `<line x1="240" y1="${from}" x2="${x}" y2="${from}" stroke="#999"/>`
      + `<line x1="${x}" y1="${from}" x2="${x}" y2="${to}" stroke="#c44" stroke-width="2" marker-end="url(#arrow)"/>`
      + `<text x="${x+4}" y="${(from+to)/2}" font-size="11">${r.time.slice(5,16)}</text>`
      + `<text x="${x+4}" y="${(from+to)/2+13}" font-size="11" fill="#555">${outcome[r.data.referral_id] || ""}</text>`);
  });
  svg.insertAdjacentHTML("afterbegin", '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="6" refY="3" orient="auto">'
    + '<path d="M0,0 L6,3 L0,6 z" fill="#c44"/></marker></defs>');
}
$("search").addEventListener("submit", async event => {
  event.preventDefault(); $("error").textContent = "";
  const body = $("timeline").querySelector("tbody"); body.innerHTML = "";
  try {
    const rows = await (await call("/v1/timeline?" + query())).json();
    rows.forEach(r => { const tr = document.createElement("tr");
      [r.seq, r.time, r.what, r.who, r.why, r.trace_id, r.event_id].forEach(v => tr.appendChild(cell(v))); body.appendChild(tr); });
    draw(rows);
    if(!rows.length) $("error").textContent = "記録なし / nothing recorded";
  } catch(error) { $("error").textContent = error.message; }
});
async function download(path, name){
  try { const blob = await (await call(path)).blob(); const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name; a.click(); } catch(error) { $("error").textContent = error.message; }
}
$("csv").addEventListener("click", () => download("/v1/timeline.csv?" + query(), "timeline.csv"));
$("json").addEventListener("click", () => download("/v1/timeline?" + query(), "timeline.json"));
</script></body></html>
"""
