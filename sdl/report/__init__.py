"""`write_report(run_dir)`: a self-contained HTML report of a run directory.

The page opens with a "morning summary" (campaign, state, experiments done / failed /
budget, the best experiment with its conditions and outcomes +/- stderr, whether a target
was reached, running time, failures by reason and one line saying what to do next),
then plots (best-so-far utility, Pareto front, outcome vs parameter, spectra of the best
experiments, g2 coincidence histogram, failures, timings) and a table of all experiments.

Self-contained: PNGs (matplotlib, Agg) are embedded as base64 data URIs; no scripts, no
external assets. The record is opened read-only and nothing recorded is altered; the only
file written is the report itself (atomically, via a temporary file). Safe to run while a
run is live. A plot that cannot be drawn becomes a note, never a failed report.

Modules: `data` (gather the record into `ReportData`), `raw` (checked raw-file loading,
absorbance, PL, coincidence histogram), `plots` (figures), `html` (the page).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sdl.errors import SdlError
from sdl.rundir import REPORT_NAME

__all__ = ["write_report", "build_html"]

log = logging.getLogger(__name__)

# Raw files tried when looking for the g2 candidate (each is hashed and read).
_G2_MAX_TRIES = 5


def write_report(run_dir: Path, *, out: Path | None = None) -> Path:
    """Write the HTML report of `run_dir` to `out` (default `<run_dir>/report.html`).

    Args:
        run_dir: a run directory (holding record.sqlite).
        out: where to write the report; parent folders are created.

    Returns:
        The path written.

    Raises:
        RecordError: `run_dir` is not a run directory or its record is unreadable.
        SdlError: the report cannot be written to `out`.
    """
    from sdl.rundir import require_run_dir

    run_dir = require_run_dir(run_dir)
    text = build_html(run_dir)
    out = Path(out) if out is not None else run_dir / REPORT_NAME
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as e:
        raise SdlError(f"cannot write the report to {out}: {e.strerror or e}; "
                       "choose another --out") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def build_html(run_dir: Path) -> str:
    """The report page of `run_dir` as a string (nothing written)."""
    from sdl.report.data import gather
    from sdl.report.html import render

    data = gather(run_dir)
    return render(data, _sections(data))


def _sections(data: Any) -> list:
    from sdl.report import plots
    from sdl.report.html import Section

    sections = []
    if data.campaign is None:
        return sections

    def add(key: str, title: str, caption: str, make: Callable[[], Any],
            empty_note: str = "", notes: list[str] | None = None) -> None:
        s = Section(key, title, caption, notes=list(notes or []))
        try:
            fig = make()
            if fig is not None:
                s.uri = plots.png_data_uri(fig)
            elif empty_note:
                s.notes.append(empty_note)
        except Exception as e:  # noqa: BLE001 - a broken plot must not lose the report
            log.exception("report plot %s failed", key)
            s.notes.append(f"this plot could not be drawn: {type(e).__name__}: {e}")
        if s.uri is not None or s.notes:
            sections.append(s)

    from sdl.report import plots_physical as pp

    add("trace", "Objectives, with best so far", "Each objective in its own unit, per "
        "finished experiment (± standard error) with the best value so far (green). A "
        "target objective is shown as the distance to the target; the green band is the "
        "tolerance, the dotted line the first experiment that met every target.",
        lambda: pp.plot_objective_traces(data), "no finished experiments yet")
    if len(data.campaign.objectives) > 1:
        add("pareto", "Pareto front, every pair of objectives", "Scored experiments on each "
            "pair of objectives; the green line joins the best trade-offs (no other "
            "experiment is better on both). Grey crosses break a constraint.",
            lambda: pp.plot_pareto_pairs(data), "no experiment has two objectives yet")
    _model_sections(data, add)
    add("params", "Outcomes vs parameters", "Each objective (± stderr) against each "
        "parameter; star = best experiment, red ticks = failed experiments, green band = "
        "target ± tolerance.", lambda: plots.plot_params(data), "no finished experiments yet")
    spectra, notes = _best_raws(data)
    add("spectra", "Spectra of the best experiments", "Top experiments by utility, from "
        "their raw files (sha256-checked).", lambda: plots.plot_spectra(spectra),
        "" if notes else "no scored experiment with a positive utility yet", notes)
    if "g2_zero" in data.campaign.outcome_names:
        make, notes = _g2(data)
        add("g2", "Photon coincidences (g2)", "All-pairs coincidence histogram of the best "
            "single-photon candidate, ±3 laser periods (±100 ns for CW).", make,
            "" if notes else "no raw file with photon data", notes)
    add("failures", "Failures by reason", "Failed experiments by reason [kind].",
        lambda: plots.plot_failures(data))
    add("timings", "Timings", "Per experiment: dispatched -> measured. Per proposal batch: "
        "strategy model-fit and whole-propose seconds (from strategy_info).",
        lambda: plots.plot_timings(data))
    return sections


def _model_sections(data: Any, add: Callable[..., None]) -> None:
    """Model slices, parameter importance, leave-one-out and the predicted optimum."""
    from sdl.report import plots_physical as pp
    from sdl.report.model import model_view
    from sdl.report.terms import unit

    holder: dict[str, Any] = {}

    def fit() -> Any:
        if "mv" not in holder:
            holder["mv"] = model_view(data)
        return holder["mv"]

    add("slices", "Model slices through the best experiment", "What the fitted model "
        "predicts when one parameter moves and the others stay at the best experiment "
        "(dotted line): mean (line) and ± 2 standard deviations (band); grey dots are the "
        "measured values.", lambda: pp.plot_slices(data, fit()),
        "not enough successful experiments to fit a model yet (3 per objective)")
    if holder.get("mv") is None:
        return
    mv = holder["mv"]
    add("importance", "Parameter importance", "How strongly each parameter changes each "
        "objective in the fitted model (inverse length scale, largest = 1).",
        lambda: pp.plot_importance(mv))
    add("loo", "Leave-one-out: predicted vs observed", "Each experiment predicted by the "
        "model fitted without it (± 2 SD); on the dashed diagonal = predicted well.",
        lambda: pp.plot_loo(mv))
    conds = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                      for k, v in mv.optimum.items())
    preds = "; ".join(f"{o} {m:.4g} ± {2 * s:.2g} {unit(o)}".rstrip()
                      for o, (m, s) in mv.optimum_pred.items())
    notes = [f"Conditions: {conds}.", f"Predicted there (± 2 SD): {preds}."]
    notes += [f"{o} not modelled: {why}" for o, why in mv.skipped.items()]
    add("optimum", "Predicted optimum", "The conditions the model expects to be best "
        "(highest desirability of the predicted means over 1024 space-filling candidates "
        "and every tried point); confirm by running them.", lambda: None, notes=notes)


def _load(data: Any, e: Any) -> tuple[Any, str]:
    """`raw.load_checked`, each raw file read (and hashed) once per report."""
    from sdl.report.raw import load_checked

    if e.experiment_id not in data.raw_cache:
        data.raw_cache[e.experiment_id] = load_checked(data.run_dir, e)
    return data.raw_cache[e.experiment_id]


def _best_raws(data: Any) -> tuple[list[tuple[str, Any]], list[str]]:
    items, notes = [], []
    for e in data.top:
        raw, why = _load(data, e)
        if raw is None:
            notes.append(why)
        else:
            items.append((e.experiment_id, raw))
    return items, notes


def _g2(data: Any) -> tuple[Callable[[], Any], list[str]]:
    """(figure maker, notes) for the best single-photon candidate: scored experiments with
    a raw file, by utility (high first) then g2_zero (low first)."""
    from sdl.report.data import value_of

    def key(e: Any) -> tuple:
        g = value_of(e.outcomes, "g2_zero")
        return (-data.utility.get(e.experiment_id, 0.0), g if g is not None else float("inf"))

    cands = sorted((e for e in data.scored if e.raw_file), key=key)
    notes: list[str] = []
    for e in cands[:_G2_MAX_TRIES]:
        raw, why = _load(data, e)
        if raw is None:
            notes.append(why)
            continue
        if not raw.has_photons:
            continue
        return functools.partial(_g2_figure, e, raw), notes
    return (lambda: None), notes


def _g2_figure(e: Any, raw: Any) -> Any:
    """Coincidence histogram figure of one experiment (may raise: drawn inside `add`)."""
    from sdl.report import plots
    from sdl.report.html import fmt_outcome
    from sdl.report.raw import coincidence_histogram, g2_window

    max_delay, bin_ps = g2_window(raw.sync_period_ps)
    hist = coincidence_histogram(raw.photon_timestamps_ps, raw.photon_channels, max_delay,
                                 bin_ps)
    label = (f"g2(0) recorded {fmt_outcome(e.outcomes.get('g2_zero'))}; "
             f"start ch{hist.detectors[0]}, stop ch{hist.detectors[1]}")
    return plots.plot_g2(e.experiment_id, hist, raw.sync_period_ps, label)
