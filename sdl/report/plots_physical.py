"""Report v2 figures in physical units: objective traces with best so far, the Pareto
front for every pair of objectives, model slices with ± 2 SD bands, parameter
importance and leave-one-out predicted vs observed. Each returns a matplotlib Figure,
or None when there is nothing to draw."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sdl.report.data import ReportData
from sdl.report.physical import first_target_hit, objective_traces, pareto_pairs
from sdl.report.plots import C_BEST, C_FAIL, C_GREY, C_OK, _figure
from sdl.report.terms import with_unit


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def _finish_panel(ax, k: int) -> None:
    """Small ticks and a light grid; the legend on the first panel only."""
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if k == 0:
        ax.legend(fontsize=7)


def _hide_spare(fig, axes, n_used: int):
    """Hide the grid's panels past the first `n_used`; returns `fig`."""
    nr, nc = axes.shape
    for k in range(n_used, nr * nc):
        axes[k // nc, k % nc].set_visible(False)
    return fig


def plot_objective_traces(data: ReportData):
    """One panel per objective: each scored value (± stderr), the running best, failed
    experiments as red ticks, the target band for target objectives."""
    c = data.campaign
    if c is None or not data.state.completed:
        return None
    traces = objective_traces(c, data.state.completed)
    hit = first_target_hit(c, data.state.completed)
    hit_n = (1 + [e.experiment_id for e in data.state.completed].index(hit.experiment_id)
             if hit is not None else None)
    nr, nc = _grid(len(traces))
    fig, axes = _figure(4.4 * nc, 3.0 * nr, nr, nc)
    for k, t in enumerate(traces):
        ax = axes[k // nc, k % nc]
        if t.n:
            n, v = np.array(t.n), np.array(t.values)
            se = np.array([s or 0.0 for s in t.stderr])
            ok = np.array(t.feasible, dtype=bool)
            ax.errorbar(n[ok], v[ok], yerr=se[ok], fmt="o", ms=3.5, color=C_OK,
                        ecolor="#7fa7cf", elinewidth=1, capsize=0, label="measured")
            if (~ok).any():
                ax.plot(n[~ok], v[~ok], "o", mfc="none", color=C_GREY, ms=4,
                        label="breaks a constraint")
            best = np.array([np.nan if b is None else b for b in t.best])
            ax.step(n, best, where="post", color=C_BEST, lw=2, label="best so far")
        if t.failed_n:
            ax.plot(t.failed_n, np.zeros(len(t.failed_n)), "|", color=C_FAIL, ms=10, mew=1.5,
                    transform=ax.get_xaxis_transform(), label="failed")
        if t.tolerance is not None:
            ax.axhspan(0, t.tolerance, color=C_BEST, alpha=0.15, lw=0, label="within tolerance")
        if hit_n is not None:
            ax.axvline(hit_n, color="k", ls=":", lw=1)
        ax.set_title(f"{t.name} ({'lower' if t.lower_is_better else 'higher'} is better)",
                     fontsize=9)
        ax.set_xlabel("experiment (order finished)", fontsize=8)
        ax.set_ylabel(t.label, fontsize=8)
        _finish_panel(ax, k)
    return _hide_spare(fig, axes, len(traces))


def plot_pareto_pairs(data: ReportData):
    """Every pair of objectives (shown values), non-dominated feasible points joined."""
    c = data.campaign
    if c is None or len(c.objectives) < 2:
        return None
    pairs = [p for p in pareto_pairs(c, data.scored) if p.ids]
    if not pairs:
        return None
    nr, nc = _grid(len(pairs))
    fig, axes = _figure(4.2 * nc, 3.4 * nr, nr, nc)
    for k, p in enumerate(pairs):
        ax = axes[k // nc, k % nc]
        x, y = np.array(p.x), np.array(p.y)
        feas, front = np.array(p.feasible), np.array(p.front)
        rest = feas & ~front
        ax.plot(x[rest], y[rest], "o", color=C_OK, ms=4, alpha=0.6, label="feasible")
        if (~feas).any():
            ax.plot(x[~feas], y[~feas], "x", color=C_GREY, ms=5, label="violates a constraint")
        if front.any():
            order = np.argsort(x[front])
            ax.plot(x[front][order], y[front][order], "o-", color=C_BEST, ms=6,
                    label="Pareto front")
            for xi, yi, eid in zip(x[front], y[front], np.array(p.ids)[front], strict=True):
                ax.annotate(eid, (xi, yi), fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_xlabel(p.x_label + (" ← better" if p.x_lower_is_better else " → better"),
                      fontsize=8)
        ax.set_ylabel(p.y_label + (" ↓ better" if p.y_lower_is_better else " ↑ better"),
                      fontsize=8)
        _finish_panel(ax, k)
    return _hide_spare(fig, axes, len(pairs))


def plot_slices(data: ReportData, mv: Any):
    """Grid objectives x continuous parameters: model mean ± 2 SD along each parameter
    with the others at the best experiment (dotted line), observed values as dots."""
    if mv is None or not mv.params:
        return None
    c = data.campaign
    objs, params = mv.objectives, mv.params
    nr, nc = len(objs), len(params)
    fig, axes = _figure(min(2.5 * nc, 14.0), 2.1 * nr + 0.3, nr, nc)
    scale = {p.name: p.scale for p in c.parameters}
    for i, o in enumerate(objs):
        for j, p in enumerate(params):
            ax = axes[i, j]
            x, m, s = mv.slices[(o, p)]
            ax.fill_between(x, m - 2 * s, m + 2 * s, color=C_OK, alpha=0.2, lw=0)
            ax.plot(x, m, color=C_OK, lw=1.5)
            ax.axvline(mv.anchor[p], color="k", ls=":", lw=1)
            xs = [e.conditions.get(p) for e in data.scored if o in e.outcomes
                  and e.outcomes[o].get("value") is not None]
            ys = [e.outcomes[o]["value"] for e in data.scored if o in e.outcomes
                  and e.outcomes[o].get("value") is not None]
            ax.plot(xs, ys, ".", color=C_GREY, ms=3)
            if scale.get(p) == "log":
                ax.set_xscale("log")
            if i == nr - 1:
                ax.set_xlabel(with_unit_param(c, p), fontsize=8)
            if j == 0:
                ax.set_ylabel(with_unit(o), fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    return fig


def with_unit_param(campaign: Any, name: str) -> str:
    from sdl.vocab.conditions import CONDITIONS

    spec = CONDITIONS.get(name)
    return f"{name} ({spec.unit})" if spec is not None and spec.unit else name


def plot_importance(mv: Any):
    """Horizontal bars: relative importance of each parameter, one group per objective."""
    if mv is None or not mv.importance:
        return None
    objs = list(mv.importance)
    params = list(next(iter(mv.importance.values())))
    fig, axes = _figure(7.0, 0.35 * len(params) * len(objs) / 1.6 + 1.2)
    ax = axes[0, 0]
    h = 0.8 / len(objs)
    y = np.arange(len(params))
    for k, o in enumerate(objs):
        ax.barh(y + k * h, [mv.importance[o][p] for p in params], height=h, label=o,
                color=f"C{k}")
    ax.set_yticks(y + h * (len(objs) - 1) / 2, params, fontsize=8)
    ax.set_xlabel("relative importance (1 = the parameter the model is most sensitive to)",
                  fontsize=8)
    ax.set_xlim(0, 1.05)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="x")
    return fig


def plot_loo(mv: Any):
    """Leave-one-out predicted (± 2 SD) vs observed, one panel per objective."""
    if mv is None or not mv.loo:
        return None
    objs = list(mv.loo)
    fig, axes = _figure(3.6 * len(objs), 3.3, 1, len(objs))
    for k, o in enumerate(objs):
        ax = axes[0, k]
        obs, pred, sd = mv.loo[o]
        ax.errorbar(obs, pred, yerr=2 * sd, fmt="o", ms=3.5, color=C_OK, ecolor="#7fa7cf",
                    elinewidth=1, capsize=0)
        lo = float(min(obs.min(), (pred - 2 * sd).min()))
        hi = float(max(obs.max(), (pred + 2 * sd).max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        rmse = float(np.sqrt(np.mean((pred - obs) ** 2)))
        ax.set_title(f"{o}: LOO RMSE {rmse:.3g}", fontsize=9)
        ax.set_xlabel(f"observed {with_unit(o)}", fontsize=8)
        ax.set_ylabel(f"predicted {with_unit(o)}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return fig


__all__ = ["plot_objective_traces", "plot_pareto_pairs", "plot_slices", "plot_importance",
           "plot_loo"]
