"""HTML of the report: one self-contained page (inline CSS, PNGs as data URIs, no
scripts, no external links). Everything taken from the record is HTML-escaped."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

from sdl.report.data import ReportData, stderr_of, value_of

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em auto;
max-width:1360px;color:#222;padding:0 1em}
h1{margin-bottom:.1em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.sub{color:#666;font-size:.9em;margin-top:0}
.rec{padding:.6em .9em;border-left:5px solid #2ca02c;background:#f2f9f2;font-weight:600}
.rec.stopped,.rec.crashed{border-color:#d62728;background:#fdf0f0}
.rec.running{border-color:#1f77b4;background:#eef5fc}
table{border-collapse:collapse;font-size:.85em}
td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f5f5f5}
table.kv th{width:13em}
table.exp{width:100%;table-layout:auto;font-size:.74em}
table.exp th{font-weight:600;overflow-wrap:anywhere;hyphens:auto}
table.exp th .u{display:block;font-weight:400;color:#666}
table.exp td{overflow-wrap:anywhere}
table.exp td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
dl.terms dt{font-weight:600}dl.terms dd{margin:0 0 .3em 1.2em}
tr.failed{background:#fdf0f0}tr.best{background:#eefaee}
figure{margin:1em 0}img{max-width:100%;height:auto}
.note{color:#8a5a00;font-size:.9em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
footer{color:#888;font-size:.8em;margin-top:2em}
"""


def esc(x: Any) -> str:
    """HTML-escape anything (quotes too)."""
    return html.escape(str(x), quote=True)


@dataclass
class Section:
    """One plot section: an <img> when `uri` is set, plus notes (plain text)."""

    key: str
    title: str
    caption: str
    uri: str | None = None
    notes: list[str] = field(default_factory=list)


def fmt_num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def fmt_outcome(o: Any) -> str:
    """'value ± stderr', or 'n/a (reason)' for a NoOutcome."""
    if not isinstance(o, dict):
        return ""
    v = value_of({"x": o}, "x")
    if v is None:
        return f"n/a ({o.get('no_outcome', 'no value')})"
    se = stderr_of({"x": o}, "x")
    return f"{v:.4g} ± {se:.2g}" if se is not None and se > 0 else f"{v:.4g}"


def fmt_duration(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h} h {m:02d} min"
    if m:
        return f"{m} min {sec:02d} s"
    return f"{sec} s"


def render(data: ReportData, sections: list[Section]) -> str:
    """The whole page."""
    c = data.campaign
    name = c.name if c is not None else data.run_dir.name
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>sdl report: {esc(name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Run report: {esc(name)}</h1>",
        f'<p class="sub">{esc(data.run_dir)} &middot; generated '
        f"{esc(data.generated_at.strftime('%Y-%m-%d %H:%M:%S'))} UTC</p>",
        _summary(data),
    ]
    for s in sections:
        parts.append(_section(s))
    parts.append(_terms(data))
    parts.append(_experiment_table(data))
    parts.append(_campaign_text(data))
    parts.append(_footer(data))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _row(key: str, value_html: str) -> str:
    return f"<tr><th>{esc(key)}</th><td>{value_html}</td></tr>"


def _summary(data: ReportData) -> str:
    st = data.state
    c = data.campaign
    rows = []
    if c is not None:
        desc = f"<br><i>{esc(c.campaign.description)}</i>" if c.campaign.description else ""
        rows.append(_row("Campaign", f"{esc(c.name)} ({esc(c.campaign.material)}, seed "
                                     f"{esc(c.seed)}){desc}"))
    state_txt = esc(data.phase)
    if st.stopped:
        state_txt += f" &mdash; stop reason: {esc(st.stopped.get('reason'))}"
        if st.stopped.get("detail"):
            state_txt += f" ({esc(st.stopped.get('detail'))})"
    if st.started:
        from sdl.provenance import describe, driver_of_started

        state_txt += f"; driven by: {esc(describe(driver_of_started(st.started)))}"
    rows.append(_row("State", state_txt))
    n_scored = len(data.scored)
    rows.append(_row("Experiments", (
        f'<span id="n-completed">{len(st.completed)}</span> completed of budget '
        f"{esc(st.budget)}: {n_scored} scored, {data.n_failed} failed"
        + (f", {data.n_unfinished} unfinished ({_unfinished(data)})" if data.n_unfinished else "")
        + (f"; time budget {c.budget.hours:g} h" if c is not None and c.budget.hours else ""))))
    if c is not None and st.completed:
        from sdl.vocab.labtime import run_lab_time

        lab_s, lab_ml = run_lab_time([e.full_conditions for e in st.completed], c.campaign.material,
                                     photons="acquisition_s" in c.fixed or c.strategy.fidelity is not None)
        rows.append(_row("Lab time spent", f"{esc(fmt_duration(lab_s))}, solvent {lab_ml:.1f} mL "
                         "(estimate: sdl.vocab.labtime, settle + flush + measurement)"))
    if data.best is not None and c is not None:
        b = data.best
        conds = ", ".join(f"{esc(k)} = {esc(fmt_num(v))}" for k, v in b.conditions.items())
        outs = "<br>".join(f"{esc(n)} = {esc(fmt_outcome(b.outcomes.get(n)))}"
                           for n in c.outcome_names if n in b.outcomes)
        rows.append(_row("Best experiment", (
            f'<b id="best-id">{esc(b.experiment_id)}</b> (desirability '
            f"{data.utility.get(b.experiment_id, 0.0):.3g})<br>{conds}<br>{outs}")))
    else:
        rows.append(_row("Best experiment", "none yet (no scored experiment meets the "
                                            "constraints)"))
    if c is not None:
        if not data.has_target:
            tgt = "no target objective"
        elif data.target_hit is not None:
            tgt = (f"<b>reached</b> by <span id=\"target-hit\">"
                   f"{esc(data.target_hit.experiment_id)}</span> (the first experiment with "
                   "every target within tolerance)")
        else:
            tgt = "not reached"
        rows.append(_row("Target", tgt))
    if st.started:
        span = ""
        if st.session_starts and st.last_ts:
            span = (f" (first event {esc(st.session_starts[0][:19])}, last "
                    f"{esc(st.last_ts[:19])}, {len(st.session_starts)} session"
                    f"{'s' if len(st.session_starts) != 1 else ''})")
        rows.append(_row("Total time", f"{esc(fmt_duration(data.active_seconds))} running{span}"))
    if c is not None:
        rows.append(_row("Strategy", _strategy(data)))
    if data.stage_seconds:
        rows.append(_row("Time by stage", ", ".join(
            f"{esc(k)} {esc(fmt_duration(v) if v >= 1 else f'{v:.2g} s')}"
            for k, v in sorted(data.stage_seconds.items(), key=lambda kv: -kv[1]))
            + " (summed over the sessions that stopped cleanly)"))
    if getattr(st, "priors", None):
        rows.append(_row("Prior data", "; ".join(
            f"{len(p.get('rows') or [])} earlier experiments from {esc(p.get('source'))} "
            f"(sha256 {esc(str(p.get('source_sha256'))[:12])}…, "
            f"{len(p.get('skipped') or [])} rows skipped)" for p in st.priors)
            + " &mdash; optimiser history only, not counted against the budget"))
    if data.failures:
        rows.append(_row("Failures", ", ".join(
            f"{esc(r)}: {n}" for r, n in data.failures.most_common())))
    else:
        rows.append(_row("Failures", "none"))
    markers = _markers(st)
    if markers:
        from sdl.analysis.markers import explain

        rows.append(_row("Outcome markers", "<br>".join(
            f"<b>{esc(m)}</b> ({n}x): {esc(explain(m))}" for m, n in markers.most_common())))
    if data.campaign_note:
        rows.append(_row("Note", esc(data.campaign_note)))
    return (f'<section id="summary"><h2>Morning summary</h2>'
            f'<p class="rec {esc(data.phase)}" id="recommendation">{esc(data.recommendation)}</p>'
            f'<table class="kv">{"".join(rows)}</table></section>')


def _markers(st: Any):
    """Counter of the outcome markers (no value, with a reason) in completed experiments."""
    from collections import Counter

    c: Counter = Counter()
    for e in st.completed:
        for o in e.outcomes.values():
            if isinstance(o, dict) and o.get("no_outcome"):
                c[str(o["no_outcome"])] += 1
    return c


def _unfinished(data: ReportData, most: int = 5) -> str:
    """'e0009 proposed, e0010 dispatched' (the first `most`)."""
    items = [f"{e.experiment_id} {e.status}" for e in data.state.unfinished]
    more = f", … {len(items) - most} more" if len(items) > most else ""
    return esc(", ".join(items[:most]) + more)


def _strategy(data: ReportData) -> str:
    """Campaign strategy settings and what the last proposal call reported."""
    st = data.campaign.strategy
    out = f"{esc(st.kind)}, {esc(st.initial)} initial, batch {esc(st.batch)}"
    if data.strategy_rows:
        r = data.strategy_rows[-1]
        out += f"; last proposal ({esc(r.experiment_id)}) by {esc(_plain_strategy(r.strategy))}"
        if r.propose_seconds is not None:
            out += f" in {r.propose_seconds:.3g} s"
        info = r.info
        words = {"acquisition_value": "expected gain of the chosen point (acquisition value)",
                 "hypervolume": "area dominated by the Pareto front so far (hypervolume)",
                 "best_feasible": "best value meeting the constraints"}
        extras = [f"{words[k]} {fmt_num(info[k])}" for k in words
                  if isinstance(info.get(k), int | float)]
        notes = info.get("notes")
        if isinstance(notes, list) and notes:
            extras.append("notes: " + "; ".join(str(n) for n in notes))
        if extras:
            out += " (" + esc(", ".join(extras)) + ")"
    return out


def _section(s: Section) -> str:
    out = [f'<section id="plot-{esc(s.key)}"><h2>{esc(s.title)}</h2>']
    if s.uri is not None:
        out.append(f'<figure><img src="{esc(s.uri)}" alt="{esc(s.title)}">'
                   f"<figcaption>{esc(s.caption)}</figcaption></figure>")
    for n in s.notes:
        out.append(f'<p class="note">{esc(n)}</p>')
    out.append("</section>")
    return "".join(out)


def _plain_strategy(name: str) -> str:
    """'bo:qLogNEHVI' -> plain words with the technical name in brackets."""
    plain = {
        "sobol": "space-filling design (Sobol)",
        "random": "random sampling",
        "bo:sobol-initial": "space-filling start of Bayesian optimisation (Sobol)",
        "bo:lab-time-initial": "cheap space-filling start of Bayesian optimisation "
                               "(short runs, rising temperature)",
        "bo:qLogNEI": "Bayesian optimisation: most expected improvement of the best "
                      "result (qLogNEI)",
        "bo:qLogNEHVI": "Bayesian optimisation: most expected growth of the Pareto front "
                        "(qLogNEHVI)",
    }
    return plain.get(name, name)


def _experiment_table(data: ReportData) -> str:
    exps = data.experiments
    c = data.campaign
    if c is not None:
        pnames = [p.name for p in c.parameters]
        onames = list(c.outcome_names)
    else:
        pnames = sorted({k for e in exps for k in e.conditions})
        onames = sorted({k for e in exps for k in e.outcomes})
    from sdl.report.terms import unit
    from sdl.vocab.conditions import CONDITIONS

    def th(name: str, u: str) -> str:
        return f"<th>{esc(name)}" + (f'<span class="u">{esc(u)}</span>' if u else "") + "</th>"

    head = ([th("id", ""), th("status", ""), th("tries", "")]
            + [th(p, getattr(CONDITIONS.get(p), "unit", "")) for p in pnames]
            + [th(o, unit(o)) for o in onames]
            + [th("desirability", "0–1"), th("failure", "")])
    rows = ["<tr>" + "".join(head) + "</tr>"]
    best_id = data.best.experiment_id if data.best else None
    for e in exps:
        cls = "failed" if e.status == "failed" else ("best" if e.experiment_id == best_id else "")
        cells = [esc(e.experiment_id), esc(e.status), esc(e.attempts)]
        cells += [esc(fmt_num(e.conditions.get(p, ""))) for p in pnames]
        cells += [esc(fmt_outcome(e.outcomes.get(o))) for o in onames]
        u = data.utility.get(e.experiment_id)
        cells.append("" if u is None else f"{u:.3g}")
        f = e.failure or {}
        fail = ""
        if f:
            fail = esc(f"{f.get('kind')}: {f.get('reason')}")
            if f.get("detail"):
                fail += f" &mdash; {esc(f.get('detail'))}"
        cells.append(fail)
        rows.append(f'<tr class="{cls}">' + "".join(
            f'<td class="num">{x}</td>' if 2 < i < len(cells) - 1 else f"<td>{x}</td>"
            for i, x in enumerate(cells)) + "</tr>")
    return (f'<section id="experiments"><h2>All experiments ({len(exps)})</h2>'
            f'<table class="exp">{"".join(rows)}</table></section>')


def _terms(data: ReportData) -> str:
    """Each objective and term of the page in one line of plain words."""
    from sdl.report.terms import PLAIN, TERMS, goal_words

    c = data.campaign
    items = []
    if c is not None:
        for o in c.objectives:
            items.append((o.name, f"{PLAIN.get(o.name, '')} ({goal_words(o)})"))
        for k in c.constraints:
            lim = " and ".join(x for x in (f">= {k.min:g}" if k.min is not None else "",
                                           f"<= {k.max:g}" if k.max is not None else "") if x)
            items.append((k.outcome, f"{PLAIN.get(k.outcome, '')} (must be {lim})"))
    items += list(TERMS.items())
    items.append(("desirability", "one number per experiment in 0..1 combining all "
                  "objectives (1 = on every target and the best value seen); used only to "
                  "rank experiments for people"))
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return f'<section id="terms"><h2>What the terms mean</h2><dl class="terms">{body}</dl></section>'


def _campaign_text(data: ReportData) -> str:
    started = data.state.started or {}
    text = started.get("campaign_toml")
    if not isinstance(text, str):
        return ""
    return ("<details><summary>Campaign file as recorded</summary>"
            f"<pre>{esc(text)}</pre></details>")


def _footer(data: ReportData) -> str:
    ev = data.last_event
    rec = "empty record" if ev is None else (
        f"record: {data.state.n_events} events, last seq {ev.seq} ({esc(ev.kind)}), "
        f"hash {esc(ev.hash[:16])}…")
    versions = (data.state.started or {}).get("versions") or {}
    vers = ", ".join(f"{esc(k)} {esc(v)}" for k, v in versions.items()) if isinstance(
        versions, dict) else ""
    return (f"<footer><p>{rec}. Verify with <code>sdl audit</code> and "
            f"<code>sdl replay --verify</code>.</p>"
            + (f"<p>recorded versions: {vers}</p>" if vers else "") + "</footer>")
