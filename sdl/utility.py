"""How good an experiment is, for people: the "best so far" of the progress bar, `sdl
status` and the report's morning summary. (The optimiser has its own objective models in
`surrogates`; this is a display and stopping rule only.)

Utility of a scored experiment, in [0, 1]: the weighted geometric mean of per-objective
desirabilities (Derringer & Suich, J. Qual. Technol. 12, 214 (1980)):
  target t +/- tol:  d = 1 / (1 + ((y - t)/tol)^2)   (Cauchy-shaped: 0.5 at the
                     tolerance, still informative far from the target)
  maximize/minimize: d = linear rank of y between the worst and best value seen so far
zero when an outcome constraint is violated or an objective is missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sdl.schema.campaign import Campaign


def _value(outcomes: dict[str, dict[str, Any]], name: str) -> float | None:
    o = outcomes.get(name)
    if not o or o.get("value") is None:
        return None
    v = float(o["value"])
    return v if math.isfinite(v) else None


def feasible(campaign: Campaign, outcomes: dict[str, dict[str, Any]]) -> bool:
    for c in campaign.constraints:
        v = _value(outcomes, c.outcome)
        if v is None or (c.min is not None and v < c.min) or (c.max is not None and v > c.max):
            return False
    return True


def target_reached(campaign: Campaign, outcomes: dict[str, dict[str, Any]]) -> bool:
    """All target objectives within tolerance and all constraints met."""
    targets = [o for o in campaign.objectives if o.goal == "target"]
    if not targets or not feasible(campaign, outcomes):
        return False
    for o in targets:
        v = _value(outcomes, o.name)
        if v is None or abs(v - o.target) > o.tolerance:
            return False
    return True


def utilities(campaign: Campaign, outcome_sets: Sequence[dict[str, dict[str, Any]]]) -> list[float]:
    """Utility of each experiment (same order), relative to the set given."""
    ranges: dict[str, tuple[float, float]] = {}
    for o in campaign.objectives:
        if o.goal in ("maximize", "minimize"):
            vals = [v for s in outcome_sets if (v := _value(s, o.name)) is not None]
            if vals:
                ranges[o.name] = (min(vals), max(vals))
    out = []
    for s in outcome_sets:
        if not feasible(campaign, s):
            out.append(0.0)
            continue
        log_sum, w_sum = 0.0, 0.0
        for o in campaign.objectives:
            v = _value(s, o.name)
            if v is None:
                d = 0.0
            elif o.goal == "target":
                d = 1.0 / (1.0 + ((v - o.target) / o.tolerance) ** 2)
            else:
                lo, hi = ranges[o.name]
                frac = 1.0 if hi == lo else (v - lo) / (hi - lo)
                d = frac if o.goal == "maximize" else 1.0 - frac
                d = 0.05 + 0.95 * d  # the worst seen is poor, not impossible
            if d <= 0.0:
                log_sum = -math.inf
                break
            log_sum += o.weight * math.log(d)
            w_sum += o.weight
        out.append(math.exp(log_sum / w_sum) if w_sum and math.isfinite(log_sum) else 0.0)
    return out


def full_fidelity(campaign: Campaign, conditions: dict[str, Any]) -> bool:
    """True unless the campaign chooses a fidelity (`[strategy.fidelity]`) and these
    conditions ran below its full fidelity `high` (a screen)."""
    fid = campaign.strategy.fidelity
    if fid is None:
        return True
    v = conditions.get(fid.parameter)
    return v is None or float(v) >= fid.high


def best_index(campaign: Campaign, outcome_sets: Sequence[dict[str, dict[str, Any]]],
               conditions: Sequence[dict[str, Any]]) -> int | None:
    """Index of the best experiment (highest utility > 0), or None.

    `conditions` are the experiments' conditions, in the order of `outcome_sets`: in a
    fidelity campaign only full-fidelity experiments can be the best (a screen is reported
    once confirmed), so every reader of "the best" (run summary, status, report, serve,
    sweep) names the same experiment."""
    u = utilities(campaign, outcome_sets)
    u = [x if full_fidelity(campaign, c) else 0.0 for x, c in zip(u, conditions, strict=True)]
    if not u or max(u) <= 0.0:
        return None
    return max(range(len(u)), key=lambda i: (u[i], -i))
