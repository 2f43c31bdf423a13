"""The dashboard page: one HTML document with inline CSS and JavaScript that polls the
JSON API every `poll_ms` and redraws with Plotly (served by the app from the installed
package; the page loads nothing from the internet). Record text reaches the DOM only
through `textContent` (never `innerHTML`), so nothing recorded can inject markup.

Element ids the browser test reads: run-list, run-title, run-state, n-done, eta,
per-exp, last-seq, best, traces, pareto, spectra, g2, failures, devlog, rig, updated.
"""

from __future__ import annotations

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;
color:#222;background:#fafafa}
header{background:#1f3b57;color:#fff;padding:.5em 1em;display:flex;gap:1.5em;align-items:baseline}
header h1{font-size:1.2em;margin:0}
header .small{font-size:.85em;opacity:.8}
main{padding:.6em 1em;max-width:1400px;margin:auto}
table{border-collapse:collapse;font-size:.85em;background:#fff}
td,th{border:1px solid #ddd;padding:.2em .45em;text-align:left;vertical-align:top}
th{background:#f0f0f0}
tr.sel{background:#e6f0fb}
#run-list tr{cursor:pointer}
.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:.6em 0}
.card{background:#fff;border:1px solid #ddd;border-radius:4px;padding:.4em .7em;min-width:9em}
.card .k{font-size:.75em;color:#666}.card .v{font-size:1.15em;font-weight:600}
.state-running{color:#1f77b4}.state-complete{color:#2ca02c}
.state-stopped,.state-crashed{color:#d62728}
progress{width:16em;height:1em}
section{background:#fff;border:1px solid #ddd;border-radius:4px;margin:.6em 0;padding:.4em .7em}
section h2{font-size:1em;margin:.2em 0 .4em}
.grid{display:flex;flex-wrap:wrap;gap:.4em}
.plot{width:440px;height:300px}
.wide{width:100%;height:300px}
pre{background:#f7f7f7;padding:.4em;font-size:.78em;max-height:18em;overflow:auto;margin:0}
.note{color:#8a5a00;font-size:.85em}
.terms{font-size:.8em;color:#444}
.two{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:.6em}
td{overflow-wrap:anywhere}
"""

_JS = r"""
const POLL_MS = __POLL_MS__;
const TOKEN = new URLSearchParams(location.search).get('token');
let selected = new URLSearchParams(location.search).get('run');
let lastSeq = -1;
function api(path) {
  const url = TOKEN ? path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(TOKEN) : path;
  return fetch(url, {cache: 'no-store'}).then(r => { if (!r.ok) throw new Error(r.status); return r.json(); });
}
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = text; if (cls) e.className = cls; return e; }
function setText(id, text) { const e = document.getElementById(id); if (e.textContent !== String(text)) e.textContent = text; }
function fmtS(s) {
  if (s === null || s === undefined) return '?';
  if (s < 10) return s.toFixed(1) + ' s';
  if (s < 60) return Math.round(s) + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + String(Math.floor(s % 60)).padStart(2, '0') + ' s';
  return Math.floor(s / 3600) + ' h ' + String(Math.floor(s % 3600 / 60)).padStart(2, '0') + ' min';
}
function fmtEta(r) { return r.state === 'running' ? fmtS(r.eta_seconds) : '—'; }
function fmtV(o) {
  if (!o || o.value === null || o.value === undefined) return (o && o.no_outcome) ? 'n/a (' + o.no_outcome + ')' : 'n/a';
  const v = Number(o.value).toPrecision(4);
  return (o.stderr !== null && o.stderr !== undefined) ? v + ' ± ' + Number(o.stderr).toPrecision(2) : v;
}
function bestText(best, units) {
  if (!best) return 'none yet';
  const parts = Object.entries(best.outcomes).map(([k, o]) => k + ' = ' + fmtV(o) + (units[k] && units[k] !== 'fraction' ? ' ' + units[k] : ''));
  return best.experiment_id + ': ' + parts.join(', ');
}
function renderRuns(runs) {
  const t = document.getElementById('run-list');
  const rows = [['run', 'campaign', 'state', 'done / budget', 'failed', 'ETA', 'best']];
  t.replaceChildren();
  const head = document.createElement('tr');
  rows[0].forEach(h => head.appendChild(el('th', h)));
  t.appendChild(head);
  for (const r of runs) {
    const tr = document.createElement('tr');
    if (r.name === selected) tr.className = 'sel';
    [r.name, r.campaign, r.state, r.experiments_completed + ' / ' + r.budget, r.experiments_failed,
     fmtEta(r), r.best ? r.best.experiment_id : '—'].forEach(v => tr.appendChild(el('td', v)));
    tr.onclick = () => { selected = r.name; lastSeq = -1; tick(); };
    t.appendChild(tr);
  }
}
const LAYOUT = {margin: {l: 55, r: 10, t: 28, b: 40}, font: {size: 11}, showlegend: false};
const CFG = {displaylogo: false, responsive: true};
function plotInto(container, key, traces, layout) {
  let div = document.getElementById(key);
  if (!div) { div = el('div', null, 'plot'); div.id = key; container.appendChild(div); }
  Plotly.react(div, traces, Object.assign({}, LAYOUT, layout), CFG);
}
function renderTraces(view) {
  const box = document.getElementById('traces');
  view.traces.forEach((t, i) => {
    const pts = {x: t.n, y: t.values, text: t.ids, mode: 'markers', type: 'scatter', name: 'measured',
      error_y: {type: 'data', array: t.stderr.map(s => s === null ? 0 : s), visible: true, thickness: 1},
      marker: {color: t.feasible.map(f => f ? '#1f77b4' : '#b0b0b0'), size: 6}};
    const best = {x: t.n, y: t.best, mode: 'lines', line: {shape: 'hv', color: '#2ca02c', width: 2}, name: 'best so far'};
    const traces = [pts, best];
    if (t.failed_n.length) traces.push({x: t.failed_n, y: t.failed_n.map(() => null), mode: 'markers', name: 'failed'});
    const shapes = t.tolerance ? [{type: 'rect', xref: 'paper', x0: 0, x1: 1, y0: 0, y1: t.tolerance, fillcolor: '#2ca02c', opacity: 0.12, line: {width: 0}}] : [];
    plotInto(box, 'trace-' + i, traces, {title: {text: t.name + (t.lower_is_better ? ' (lower is better)' : ' (higher is better)')},
      xaxis: {title: {text: 'experiment (order finished)'}}, yaxis: {title: {text: t.label}}, shapes: shapes});
  });
}
function renderPareto(view) {
  const box = document.getElementById('pareto');
  if (!view.pareto.length) { box.replaceChildren(el('p', 'one objective: no trade-off to show', 'note')); return; }
  view.pareto.forEach((p, i) => {
    const idx = p.ids.map((_, j) => j);
    const pick = f => idx.filter(f);
    const rest = pick(j => p.feasible[j] && !p.front[j]), bad = pick(j => !p.feasible[j]);
    const front = pick(j => p.front[j]).sort((a, b) => p.x[a] - p.x[b]);
    const tr = (js, opts) => Object.assign({x: js.map(j => p.x[j]), y: js.map(j => p.y[j]), text: js.map(j => p.ids[j]), type: 'scatter'}, opts);
    plotInto(box, 'pareto-' + i, [
      tr(rest, {mode: 'markers', name: 'feasible', marker: {color: '#1f77b4', opacity: 0.6}}),
      tr(bad, {mode: 'markers', name: 'violates a constraint', marker: {color: '#b0b0b0', symbol: 'x'}}),
      tr(front, {mode: 'lines+markers', name: 'Pareto front', marker: {color: '#2ca02c', size: 9}, line: {color: '#2ca02c'}}),
    ], {title: {text: p.x_name + ' vs ' + p.y_name}, xaxis: {title: {text: p.x_label}}, yaxis: {title: {text: p.y_label}}});
  });
}
function renderLatest(view) {
  const L = view.latest, sp = document.getElementById('spectra'), g2 = document.getElementById('g2');
  setText('latest-id', L ? L.experiment_id + ' (' + L.status + ')' + (L.note ? ' — ' + L.note : '') : 'no raw file yet');
  if (!L || !L.wavelengths_nm) return;
  plotInto(sp, 'abs-plot', [{x: L.wavelengths_nm, y: L.absorbance, mode: 'lines', line: {color: '#1f77b4'}}],
    {title: {text: 'absorbance ' + L.experiment_id}, xaxis: {title: {text: 'wavelength (nm)'}}, yaxis: {title: {text: 'absorbance (OD)'}}});
  plotInto(sp, 'pl-plot', [{x: L.wavelengths_nm, y: L.pl_counts, mode: 'lines', line: {color: '#d62728'}}],
    {title: {text: 'PL ' + L.experiment_id}, xaxis: {title: {text: 'wavelength (nm)'}}, yaxis: {title: {text: 'PL (counts, dark subtracted)'}}});
  if (L.g2) {
    plotInto(g2, 'g2-plot', [{x: L.g2.delay_ns, y: L.g2.counts, type: 'bar', marker: {color: '#9467bd'}}],
      {title: {text: 'coincidences ' + L.experiment_id}, xaxis: {title: {text: 'delay (ns)'}}, yaxis: {title: {text: 'pairs per bin'}}});
  } else { g2.replaceChildren(el('p', 'no photon data in the latest raw file', 'note')); }
  const log = (L.device_log_tail || []).map(r => [Number(r.t_s).toFixed(1) + ' s', r.device, r.kind, JSON.stringify(r.value, (k, v) => typeof v === 'number' ? Number(v.toPrecision(6)) : v)].join('  '));
  setText('devlog', log.join('\n') || '(empty)');
  const rig = document.getElementById('rig'); rig.replaceChildren();
  const num = v => typeof v === 'number' ? Number(v.toPrecision(4)) : v;
  Object.entries(L.rig_state || {}).forEach(([k, v]) => {
    const text = (v && typeof v === 'object') ? Object.entries(v).map(([a, b]) => a + ' ' + num(b)).join(', ') : num(v);
    const tr = document.createElement('tr'); tr.appendChild(el('th', k)); tr.appendChild(el('td', text)); rig.appendChild(tr); });
}
function renderFailures(view) {
  const t = document.getElementById('failures'); t.replaceChildren();
  const head = document.createElement('tr'); ['experiment', 'kind', 'reason', 'detail'].forEach(h => head.appendChild(el('th', h))); t.appendChild(head);
  if (!view.failures.length) { const tr = document.createElement('tr'); tr.appendChild(el('td', 'no failures')); t.appendChild(tr); }
  for (const f of view.failures) { const tr = document.createElement('tr'); [f.experiment_id, f.kind, f.reason, f.detail].forEach(v => tr.appendChild(el('td', v))); t.appendChild(tr); }
  const s = document.getElementById('safe'); s.replaceChildren();
  view.safe_states.forEach(x => s.appendChild(el('li', x.ts + ' safe state: ' + x.detail)));
  view.stops.forEach(x => s.appendChild(el('li', x.ts + ' stopped: ' + x.reason + (x.detail ? ' (' + x.detail + ')' : ''))));
}
function renderView(view) {
  const s = view.summary;
  setText('run-title', s.name + ' — ' + (s.campaign || '?'));
  const st = document.getElementById('run-state'); st.className = 'v state-' + s.state; setText('run-state', s.state + (s.stopped_reason ? ' (' + s.stopped_reason + ')' : ''));
  setText('n-done', s.experiments_completed + ' / ' + s.budget);
  document.getElementById('progress').value = s.budget ? s.experiments_completed / s.budget : 0;
  setText('n-failed', s.experiments_failed);
  setText('eta', fmtEta(s));
  setText('per-exp', fmtS(s.seconds_per_experiment));
  setText('last-seq', s.last_seq);
  setText('best', bestText(s.best, view.units));
  setText('target-hit', view.target_hit || 'not yet');
  renderTraces(view); renderPareto(view); renderLatest(view); renderFailures(view);
  const terms = document.getElementById('terms');
  if (!terms.childElementCount && view.objectives) view.objectives.forEach(o => terms.appendChild(el('li', o.name + ': ' + (view.plain[o.name] || ''))));
}
async function tick() {
  try {
    const runs = await api('/api/runs');
    if (!selected && runs.length) selected = runs[0].name;
    renderRuns(runs);
    const cur = runs.find(r => r.name === selected);
    if (cur && cur.last_seq !== lastSeq) {
      const view = await api('/api/runs/' + encodeURIComponent(selected) + '/view');
      lastSeq = view.summary.last_seq;
      renderView(view);
    } else if (cur) {
      setText('eta', fmtEta(cur)); setText('run-state', cur.state + (cur.stopped_reason ? ' (' + cur.stopped_reason + ')' : ''));
    }
    setText('updated', new Date().toISOString().slice(11, 19) + ' UTC');
    document.getElementById('conn').textContent = '';
  } catch (e) { document.getElementById('conn').textContent = 'connection problem: ' + e.message + '; retrying'; }
}
tick(); setInterval(tick, POLL_MS);
"""

_BODY = """
<header><h1>sdl dashboard</h1><span class="small">read-only · updates every __POLL_S__ s ·
last update <span id="updated">—</span></span><span id="conn" class="small"></span></header>
<main>
<table id="run-list"></table>
<h2 id="run-title">—</h2>
<div class="cards">
 <div class="card"><div class="k">state</div><div class="v" id="run-state">—</div></div>
 <div class="card"><div class="k">experiments done / budget</div><div class="v" id="n-done">—</div>
  <progress id="progress" max="1" value="0"></progress></div>
 <div class="card"><div class="k">failed</div><div class="v" id="n-failed">—</div></div>
 <div class="card"><div class="k">time per experiment</div><div class="v" id="per-exp">—</div></div>
 <div class="card"><div class="k">ETA</div><div class="v" id="eta">—</div></div>
 <div class="card"><div class="k">target reached by</div><div class="v" id="target-hit">—</div></div>
 <div class="card"><div class="k">record seq</div><div class="v" id="last-seq">—</div></div>
</div>
<div class="card"><div class="k">best so far</div><div id="best">—</div></div>
<section><h2>Objectives in physical units, with best so far</h2><div id="traces" class="grid"></div>
<ul id="terms" class="terms"></ul></section>
<section><h2>Pareto front, every pair of objectives</h2><div id="pareto" class="grid"></div></section>
<section><h2>Latest spectra: <span id="latest-id">—</span></h2><div id="spectra" class="grid"></div>
<div id="g2" class="grid"></div></section>
<div class="two">
<section><h2>Failures and interlocks</h2><table id="failures"></table><ul id="safe"></ul></section>
<section><h2>Rig state (latest raw file)</h2><table id="rig"></table>
<h2>Device log tail</h2><pre id="devlog">—</pre></section>
</div>
</main>
"""


def page_html(poll_ms: int = 1000, token: str | None = None) -> str:
    """The dashboard document; `poll_ms` is the polling interval in milliseconds; the
    (already checked) `token` is passed on to the Plotly script request."""
    import html
    from urllib.parse import quote

    src = "/static/plotly.min.js" + (f"?token={quote(token, safe='')}" if token else "")
    body = _BODY.replace("__POLL_S__", f"{poll_ms / 1000:g}")
    js = _JS.replace("__POLL_MS__", str(int(poll_ms)))
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>sdl dashboard</title>"
            f"<style>{_CSS}</style>"
            f"<script src='{html.escape(src, quote=True)}'></script></head>"
            f"<body>{body}<script>{js}</script></body></html>")
