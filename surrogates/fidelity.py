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
* Confirmation is chosen from the model, not from the raw screen: after the initial
  design, the outcome GPs (fitted as in the BO step, noise = the analysis' stderrs) give
  at each screened point the posterior probability that every outcome constraint holds
  and the posterior mean of the objective's utility. The screened point with the best
  mean utility among those with a feasibility probability >= `P_FEASIBLE` is run again
  at `high` before any new conditions, if its mean beats the model's mean at every
  feasible point already measured at full fidelity (one at a time, each point once). A
  2 s screen of a blinking dot can miss the brightness floor by chance although the
  point and its neighbours say it is bright (and pass it by chance although it is not);
  the old rule confirmed only screens whose measured constraints passed, so such good
  points were never confirmed. Only full-fidelity measurements can become the reported
  best, so the best point is always confirmed at full fidelity.

The cost rule is explicit (cost of a screen overhead + low vs a confirmation overhead +
high); it is a screening/confirmation policy over a heteroskedastic GP, not multi-
fidelity knowledge gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from surrogates.types import Observation, Proposal, StrategyInfo

# Smallest model probability that a screened point meets every outcome constraint for it
# to be confirmed.
P_FEASIBLE = 0.3


def _key(conditions: dict[str, Any], names: Sequence[str]) -> tuple:
    return tuple(round(float(conditions[n]), 9) if isinstance(conditions[n], int | float)
                 else conditions[n] for n in names)


def _fidelity_of(o: Observation | Proposal, fid: Any) -> float:
    return float(o.conditions.get(fid.parameter, fid.high))


def _has(o: Observation, name: str) -> bool:
    v = o.outcomes.get(name)
    return v is not None and math.isfinite(float(v[0]))


def model_view(campaign: Any, history: Sequence[Observation], points: Sequence[Observation]
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """Posterior mean objective utility and constraint feasibility probability at `points`.

    The outcome GPs are fitted on `history` exactly as the BO step fits them
    (`surrogates.models.fit_models`: heteroskedastic, noise = the analysis' stderrs,
    warm-started deterministically from the data), on one thread so the arithmetic is the
    same on every machine (replay verifies bit for bit).

    Args:
        campaign: validated single-objective campaign.
        history: finished experiments (failed ones and unencodable ones are skipped).
        points: observations whose conditions to evaluate.

    Returns:
        (utility (len(points),), p_feasible (len(points),)): utility of the posterior mean
        of the objective (original units); p_feasible = prod over constraints of
        P(lo <= f <= hi) under the latent posterior N(mean, var) of the outcome (outcomes
        modelled independently). None when the data cannot support a model (fewer than 2
        measurements of an outcome, or no experiment with every outcome).
    """
    import torch

    from surrogates.encoding import Encoder
    from surrogates.errors import EncodingError
    from surrogates.models import DTYPE, fit_models, make_outcome_data
    from surrogates.objectives import Problem
    from surrogates.settings import DEFAULT

    problem = Problem.from_campaign(campaign)
    encoder = Encoder.from_campaign(campaign)
    obs, rows = [], []
    for o in history:
        try:
            rows.append(encoder.encode(o.conditions))
            obs.append(o)
        except EncodingError:
            continue
    if not any(not o.failed and all(_has(o, m) for m in problem.modelled) for o in obs):
        return None
    X = torch.as_tensor(np.stack(rows), dtype=DTYPE)
    data = {}
    for name in problem.modelled:
        idx = [i for i, o in enumerate(obs) if not o.failed and _has(o, name)]
        if len(idx) < 2:
            return None
        data[name] = make_outcome_data(X[idx], [float(obs[i].outcomes[name][0]) for i in idx],
                                       [float(obs[i].outcomes[name][1]) for i in idx])
    Xp = torch.as_tensor(np.stack([encoder.encode(p.conditions) for p in points]), dtype=DTYPE)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fitted = fit_models(data, DEFAULT)
        with torch.no_grad():
            post = fitted.model.posterior(Xp)
            mean = post.mean.reshape(len(points), -1)
            sd = post.variance.clamp_min(1e-18).sqrt().reshape(len(points), -1)
    finally:
        torch.set_num_threads(threads)
    normal = torch.distributions.Normal(torch.zeros((), dtype=DTYPE), torch.ones((), dtype=DTYPE))
    p_ok = torch.ones(len(points), dtype=DTYPE)
    for c in problem.constraints:
        i = problem.modelled.index(c.outcome)
        up = normal.cdf((c.hi - mean[:, i]) / sd[:, i]) if c.hi is not None else 1.0
        low = normal.cdf((c.lo - mean[:, i]) / sd[:, i]) if c.lo is not None else 0.0
        p_ok = p_ok * (up - low)
    spec = problem.objectives[0]
    util = spec.utility(mean[:, problem.modelled.index(spec.name)])
    return util.numpy(), p_ok.numpy()


def confirmation_candidate(campaign: Any, history: Sequence[Observation],
                           pending: Sequence[Proposal]) -> dict[str, Any] | None:
    """Conditions of the screened point to confirm at full fidelity next, or None (see
    the module docstring: chosen from the model's posterior, not the raw screen).

    Single objective only (the first); multi-objective campaigns confirm nothing, and
    nothing is confirmed before `strategy.initial` experiments have finished.
    """
    from surrogates.objectives import Problem

    fid = campaign.strategy.fidelity
    if Problem.from_campaign(campaign).multi or len(history) < campaign.strategy.initial:
        return None
    names = [p.name for p in campaign.parameters]
    usable = [o for o in history if not o.failed and all(n in o.conditions for n in names)]
    full = {_key(o.conditions, names) for o in list(history) + list(pending)
            if _fidelity_of(o, fid) >= fid.high and all(n in o.conditions for n in names)}
    screens, seen = [], set()
    for o in usable:
        key = _key(o.conditions, names)
        if _fidelity_of(o, fid) < fid.high and key not in full and key not in seen:
            screens.append(o)
            seen.add(key)
    if not screens:
        return None
    confirmed = [o for o in usable if _fidelity_of(o, fid) >= fid.high]
    view = model_view(campaign, history, screens + confirmed)
    if view is None:
        return None
    util, p_ok = view
    ok = p_ok >= P_FEASIBLE
    incumbent = max((float(u) for u, f in zip(util[len(screens):], ok[len(screens):], strict=True)
                     if f), default=-math.inf)
    best, best_u = None, incumbent
    for o, u, f in zip(screens, util[: len(screens)], ok[: len(screens)], strict=True):
        if f and float(u) > best_u:
            best, best_u = o, float(u)
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
