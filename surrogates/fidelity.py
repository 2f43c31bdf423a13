"""Photon acquisition time as a fidelity: screen cheaply, confirm the best at full fidelity.

A campaign declares `[strategy.fidelity]` (parameter `acquisition_s`, range [low, high],
cost per experiment `overhead_s + acquisition_s`). What the strategy does:

* Conditions come from the ordinary step (`surrogates.strategies`; qLogNEI on GPs whose
  noise is the analysis' standard errors, so a 2 s HBT run with g2 stderr ~0.1 counts
  for less than a 30 s run with ~0.03: the g2 stderr from the photon core is the noise
  model; the expected g2(0) does not depend on the acquisition time, only its noise
  does, so the fidelity enters through the noise and needs no fidelity kernel).
* New conditions run at the cheapest fidelity (`low`): most BO points, and every point
  of the initial design, are screens.
* Confirmation: when a screened point is promising — it met the measured outcome
  constraints and its optimistic value (value -/+ 2 stderr, the better side) beats the
  best point confirmed at full fidelity so far — it is run again at `high` before any
  new conditions (one at a time, most promising first, each point once). Only full-
  fidelity measurements can become the reported best, so the best point is always
  confirmed at full fidelity.

The cost rule is explicit (cost of a screen overhead + low vs a confirmation overhead +
high); it is a screening/confirmation policy over a heteroskedastic GP, not multi-
fidelity knowledge gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from surrogates.types import Observation, Proposal, StrategyInfo

# Optimistic bound: value -/+ this many standard errors.
OPTIMISM_SE = 2.0


def _key(conditions: dict[str, Any], names: Sequence[str]) -> tuple:
    return tuple(round(float(conditions[n]), 9) if isinstance(conditions[n], int | float)
                 else conditions[n] for n in names)


def _fidelity_of(o: Observation | Proposal, fid: Any) -> float:
    return float(o.conditions.get(fid.parameter, fid.high))


def confirmation_candidate(campaign: Any, history: Sequence[Observation],
                           pending: Sequence[Proposal]) -> dict[str, Any] | None:
    """Conditions of the screened point to confirm at full fidelity next, or None.

    Single objective only (the first); multi-objective campaigns confirm nothing.
    """
    from surrogates.objectives import Problem

    fid = campaign.strategy.fidelity
    problem = Problem.from_campaign(campaign)
    if problem.multi:
        return None
    spec = problem.objectives[0]
    names = [p.name for p in campaign.parameters]
    full = {_key(o.conditions, names) for o in list(history) + list(pending)
            if _fidelity_of(o, fid) >= fid.high and all(n in o.conditions for n in names)}
    best_full = -math.inf
    for o in history:
        v = o.outcomes.get(spec.name)
        if (o.failed or v is None or _fidelity_of(o, fid) < fid.high
                or not problem.observed_feasible(o.outcomes)):
            continue
        best_full = max(best_full, float(spec.utility_np(v[0])))
    best, best_u = None, -math.inf
    for o in history:
        v = o.outcomes.get(spec.name)
        if (o.failed or v is None or _fidelity_of(o, fid) >= fid.high
                or not all(n in o.conditions for n in names)
                or _key(o.conditions, names) in full
                or not problem.observed_feasible(o.outcomes)):
            continue
        val, se = float(v[0]), float(v[1]) if math.isfinite(float(v[1])) else 0.0
        u = max(float(spec.utility_np(val - OPTIMISM_SE * se)),
                float(spec.utility_np(val + OPTIMISM_SE * se)))
        if u > best_full and u > best_u:
            best, best_u = o, u
    if best is None:
        return None
    return {n: best.conditions[n] for n in names}


def propose_fidelity(campaign: Any, history: Sequence[Observation], k: int,
                     pending: Sequence[Proposal], n: int,
                     inner: Callable[..., tuple[list[Proposal], StrategyInfo]]
                     ) -> tuple[list[Proposal], StrategyInfo]:
    """Proposals with a fidelity value each (see the module docstring).

    Args:
        campaign: validated campaign with `strategy.fidelity`.
        history, k, pending, n: as `surrogates.propose`.
        inner: the ordinary proposal step, `inner(history, pending, n) -> (proposals,
            info)`.

    Returns:
        n proposals whose conditions include the fidelity parameter, and the info (its
        strategy suffixed ":confirm" for a confirmation).
    """
    fid = campaign.strategy.fidelity
    out: list[Proposal] = []
    notes: list[str] = []
    cand = confirmation_candidate(campaign, history, pending)
    if cand is not None:
        out.append(Proposal({**cand, fid.parameter: float(fid.high)}))
        notes.append(f"fidelity: confirm a screened point at {fid.parameter} = {fid.high:g}")
    info = StrategyInfo("fidelity:confirm", notes=notes)
    if len(out) < n:
        props, info = inner(history, list(pending) + out, n - len(out))
        out.extend(Proposal({**p.conditions, fid.parameter: float(fid.low)}) for p in props)
        notes.extend(info.notes)
    cost = sum(fid.overhead_s + float(p.conditions[fid.parameter]) for p in out)
    notes.append(f"fidelity: cost {cost:.0f} s ({fid.parameter} "
                 + ", ".join(f"{float(p.conditions[fid.parameter]):g}" for p in out) + ")")
    strategy = info.strategy + (":confirm" if cand is not None and info.strategy != "fidelity:confirm"
                                else "")
    from dataclasses import replace

    return out, replace(info, strategy=strategy, notes=notes)
