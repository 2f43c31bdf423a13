"""The report's figures (matplotlib, Agg canvas, no pyplot global state).

Each `plot_*` returns a `matplotlib.figure.Figure`, or None when there is nothing to
draw; `png_data_uri` turns one into a base64 PNG data URI. matplotlib is imported inside
the functions so that importing `sdl.report` stays cheap.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import numpy as np

from sdl.report.data import ReportData, objective_values, stderr_of, value_of
from sdl.report.raw import CoincidenceHistogram, absorbance, pl_counts

DPI = 80
LOG_UTILITY_BELOW = 0.05  # best utility below this: the trace uses a log axis
C_OK, C_FAIL, C_BEST, C_GREY = "#1f77b4", "#d62728", "#2ca02c", "#b0b0b0"


def _figure(w: float, h: float, nrows: int = 1, ncols: int = 1, **kw: Any):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def png_data_uri(fig: Any) -> str:
    """`data:image/png;base64,...` of a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def plot_trace(data: ReportData):
    """Utility of each finished experiment (failed = 0) and the best so far, vs the
    experiment number in completion order."""
    done = data.state.completed
    if not done or data.campaign is None:
        return None
    n = np.arange(1, len(done) + 1)
    u = np.array([data.utility.get(e.experiment_id, 0.0) for e in done])
    failed = np.array([e.status == "failed" for e in done])
    best = np.maximum.accumulate(u)
    log_scale = 0.0 < best[-1] < LOG_UTILITY_BELOW
    if log_scale:  # far from every target: a linear axis would show a flat line at 0
        floor = max(float(u[u > 0].min()) / 3.0, best[-1] * 1e-12)
        u, best = np.maximum(u, floor), np.maximum(best, floor)
    fig, ax = _figure(7.6, 3.0)
    ax = ax[0, 0]
    ax.step(n, best, where="post", color=C_BEST, lw=2, label="best so far")
    ax.plot(n[~failed], u[~failed], "o", color=C_OK, ms=4, label="scored")
    if failed.any():
        ax.plot(n[failed], u[failed], "x", color=C_FAIL, ms=6, label="failed")
    if data.target_hit is not None:
        k = 1 + [e.experiment_id for e in done].index(data.target_hit.experiment_id)
        ax.axvline(k, color="k", ls=":", lw=1,
                   label=f"target reached ({data.target_hit.experiment_id})")
    ax.set_xlabel("experiment number (order finished)")
    if log_scale:
        ax.set_yscale("log")
        ax.set_ylim(floor / 1.5, 1.5)
        ax.set_ylabel("utility (log; 0 at the bottom)")
    else:
        ax.set_ylabel("utility (0..1)")
        ax.set_ylim(-0.03, 1.03)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def pareto_axis(obj: Any) -> tuple[str, Any]:
    """(axis label, value -> plotted value) for one objective: the value itself for
    maximize/minimize, the distance |y - target| for a target objective."""
    if obj.goal == "target":
        return f"|{obj.name} - {obj.target:g}|", lambda v: abs(v - obj.target)
    return f"{obj.name} ({obj.goal})", lambda v: v


def non_dominated(points: np.ndarray, minimize: list[bool]) -> np.ndarray:
    """(M,) bool mask of the non-dominated rows of `points` (M, D).

    Row a dominates row b when a is at least as good in every column and strictly
    better in one; `minimize[d]` says which way column d is better.
    """
    p = np.asarray(points, np.float64) * np.where(minimize, 1.0, -1.0)
    m = len(p)
    mask = np.ones(m, dtype=bool)
    for i in range(m):
        better_eq = np.all(p <= p[i], axis=1)
        strictly = np.any(p < p[i], axis=1)
        if np.any(better_eq & strictly):
            mask[i] = False
    return mask


def plot_pareto(data: ReportData):
    """First two objectives of the scored experiments; the non-dominated feasible ones
    highlighted (targets plotted as distance to target, which is minimised)."""
    c = data.campaign
    if c is None or len(c.objectives) < 2:
        return None
    o1, o2 = c.objectives[0], c.objectives[1]
    (l1, f1), (l2, f2) = pareto_axis(o1), pareto_axis(o2)
    pts, ids, feas = [], [], []
    from sdl.utility import feasible

    for e in data.scored:
        v = objective_values(c, e)
        if o1.name in v and o2.name in v:
            pts.append((f1(v[o1.name]), f2(v[o2.name])))
            ids.append(e.experiment_id)
            feas.append(feasible(c, e.outcomes))
    if not pts:
        return None
    pts_a, feas_a = np.array(pts), np.array(feas)
    mins = [o.goal != "maximize" for o in (o1, o2)]
    front = np.zeros(len(pts_a), dtype=bool)
    if feas_a.any():
        front[feas_a] = non_dominated(pts_a[feas_a], mins)
    fig, ax = _figure(5.2, 4.0)
    ax = ax[0, 0]
    rest = feas_a & ~front
    ax.plot(pts_a[rest, 0], pts_a[rest, 1], "o", color=C_OK, ms=5, alpha=0.6, label="feasible")
    if (~feas_a).any():
        ax.plot(pts_a[~feas_a, 0], pts_a[~feas_a, 1], "x", color=C_GREY, ms=5,
                label="violates a constraint")
    if front.any():
        order = np.argsort(pts_a[front, 0])
        ax.plot(pts_a[front, 0][order], pts_a[front, 1][order], "o-", color=C_BEST, ms=7,
                mfc=C_BEST, label="non-dominated")
        for (x, y), eid in zip(pts_a[front], np.array(ids)[front], strict=True):
            ax.annotate(eid, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(l1 + ("  (better ->)" if not mins[0] else "  (<- better)"))
    ax.set_ylabel(l2 + ("  (better ->)" if not mins[1] else "  (<- better)"))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_params(data: ReportData):
    """One small panel per (objective, parameter): outcome +/- stderr vs the parameter;
    failed experiments as red ticks on the x axis."""
    c = data.campaign
    if c is None or not data.state.completed:
        return None
    objs, params = c.objectives, c.parameters
    nr, nc = len(objs), len(params)
    fig, axes = _figure(min(2.4 * nc, 14.0), min(2.0 * nr, 12.0) + 0.3, nr, nc)
    failed = [e for e in data.state.completed if e.status == "failed"]
    for j, p in enumerate(params):
        cats = list(p.values or [])

        def xval(e: Any, p: Any = p, cats: list = cats) -> float | None:
            v = e.conditions.get(p.name)
            if p.type == "categorical":
                return float(cats.index(v)) if v in cats else None
            return float(v) if isinstance(v, int | float) and math.isfinite(v) else None

        for i, o in enumerate(objs):
            ax = axes[i, j]
            xs, ys, es = [], [], []
            for e in data.scored:
                x, y = xval(e), value_of(e.outcomes, o.name)
                if x is not None and y is not None:
                    xs.append(x)
                    ys.append(y)
                    es.append(stderr_of(e.outcomes, o.name) or 0.0)
            if xs:
                ax.errorbar(xs, ys, yerr=es, fmt="o", ms=3, color=C_OK, ecolor="#7fa7cf",
                            elinewidth=1, capsize=0)
            if data.best is not None:
                x, y = xval(data.best), value_of(data.best.outcomes, o.name)
                if x is not None and y is not None:
                    ax.plot([x], [y], "*", color=C_BEST, ms=11, zorder=5)
            fx = [x for e in failed if (x := xval(e)) is not None]
            if fx:
                ax.plot(fx, np.zeros(len(fx)), "|", color=C_FAIL, ms=10, mew=1.5,
                        transform=ax.get_xaxis_transform())
            if o.goal == "target":
                ax.axhspan(o.target - o.tolerance, o.target + o.tolerance, color=C_BEST,
                           alpha=0.15, lw=0)
            if p.type == "categorical":
                ax.set_xticks(range(len(cats)), cats, fontsize=7)
                ax.set_xlim(-0.5, len(cats) - 0.5)
            elif p.scale == "log":
                from matplotlib.ticker import NullFormatter

                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
            if i == nr - 1:
                ax.set_xlabel(p.name, fontsize=8)
            if j == 0:
                ax.set_ylabel(o.name, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    return fig


def plot_spectra(items: list[tuple[str, Any]]):
    """Absorbance and dark-subtracted PL of the given (experiment id, raw) pairs."""
    if not items:
        return None
    fig, axes = _figure(9.0, 3.2, 1, 2)
    a1, a2 = axes[0, 0], axes[0, 1]
    for eid, raw in items:
        wl = np.asarray(raw.wavelengths_nm, np.float64)
        a1.plot(wl, absorbance(raw), lw=1.2, label=eid)
        a2.plot(wl, pl_counts(raw), lw=1.2, label=eid)
    a1.set_title("absorbance  -log10((S-D)/(R-D))", fontsize=9)
    a1.set_ylabel("absorbance")
    a2.set_title("photoluminescence (sample - dark)", fontsize=9)
    a2.set_ylabel("counts")
    for a in (a1, a2):
        a.set_xlabel("wavelength (nm)")
        a.legend(fontsize=8)
        a.grid(alpha=0.3)
    return fig


def plot_g2(eid: str, hist: CoincidenceHistogram, sync_period_ps: int, label: str):
    """Coincidence histogram (delay in ns) of one experiment's photon stream."""
    fig, ax = _figure(6.4, 2.8)
    ax = ax[0, 0]
    edges_ns = hist.edges_ps / 1e3
    ax.stairs(hist.counts, edges_ns, fill=True, color=C_OK, alpha=0.8)
    if sync_period_ps > 0:
        for m in range(-3, 4):
            ax.axvline(m * sync_period_ps / 1e3, color=C_GREY, lw=0.6, ls=":")
    ax.set_xlabel("delay t(stop) - t(start) (ns)")
    ax.set_ylabel("coincidences per bin")
    ax.set_title(f"{eid}: {label}", fontsize=9)
    ax.grid(alpha=0.3)
    return fig


def plot_failures(data: ReportData):
    """Failed experiments counted by reason."""
    if not data.failures:
        return None
    items = data.failures.most_common()
    fig, ax = _figure(6.4, 1.2 + 0.3 * len(items))
    ax = ax[0, 0]
    labels = [f"{r} [{data.failure_kinds.get(r, '?')}]" for r, _ in items][::-1]
    ax.barh(range(len(items)), [n for _, n in items][::-1], color=C_FAIL)
    ax.set_yticks(range(len(items)), labels, fontsize=8)
    ax.set_xlabel("experiments")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_timings(data: ReportData):
    """Per-experiment duration (dispatched -> measured) and the strategy's fit/propose
    seconds per proposal batch."""
    have_d = bool(data.durations_s)
    rows = [r for r in data.strategy_rows
            if r.fit_seconds is not None or r.propose_seconds is not None]
    if not have_d and not rows:
        return None
    ncols = int(have_d) + int(bool(rows))
    fig, axes = _figure(4.6 * ncols, 3.0, 1, ncols)
    col = 0
    if have_d:
        ax = axes[0, col]
        col += 1
        order = [e.experiment_id for e in data.experiments if e.experiment_id in data.durations_s]
        ax.bar(range(len(order)), [data.durations_s[i] for i in order], color=C_OK)
        if len(order) <= 12:
            ax.set_xticks(range(len(order)), order, fontsize=7, rotation=45)
        ax.set_xlabel("experiment (order proposed)")
        ax.set_ylabel("dispatched -> measured (s)")
        ax.grid(axis="y", alpha=0.3)
    if rows:
        ax = axes[0, col]
        k = [r.k for r in rows]
        for attr, style, lab in (("fit_seconds", "o-", "model fit"),
                                 ("propose_seconds", "s-", "whole propose")):
            ys = [getattr(r, attr) for r in rows]
            ys = [np.nan if y is None else y for y in ys]
            ax.plot(k, ys, style, ms=3, label=lab)
        ax.set_xlabel("iteration k")
        ax.set_ylabel("strategy seconds")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return fig
