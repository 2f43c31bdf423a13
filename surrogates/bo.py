"""One Bayesian-optimisation step: data -> models -> acquisition -> decoded proposals.

Called by `surrogates.strategies.propose` once the initial design is done. See the
`strategies` module for what counts as a success and how seeds are derived.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from botorch.utils.multi_objective.hypervolume import Hypervolume
from botorch.utils.multi_objective.pareto import is_non_dominated
from gpytorch.settings import cholesky_jitter
from linear_operator.utils.errors import NotPSDError

from surrogates.acquisition import (
    build_acquisition,
    feasibility_weight,
    optimize,
    proximal_weight,
    reference_point,
)
from surrogates.design import derive_seed, sobol_points
from surrogates.encoding import Encoder
from surrogates.errors import EncodingError
from surrogates.feasibility import fit_feasibility
from surrogates.models import DTYPE, OutcomeData, fit_models, make_outcome_data
from surrogates.objectives import Problem
from surrogates.settings import Settings
from surrogates.types import Observation, Proposal, StrategyInfo

_ACQ_ERRORS = (NotPSDError, RuntimeError, torch.linalg.LinAlgError)


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _has(obs: Observation, name: str) -> bool:
    v = obs.outcomes.get(name)
    return v is not None and math.isfinite(float(v[0]))


def bo_step(
    campaign: Any,
    encoder: Encoder,
    history: Sequence[Observation],
    k: int,
    pending: Sequence[Proposal],
    n: int,
    settings: Settings,
    related: Sequence[Any] = (),
) -> tuple[list[dict[str, Any]], StrategyInfo]:
    """Fit, acquire and decode n proposals (see `surrogates.strategies.propose`)."""
    seed = derive_seed(campaign.seed, 3, k)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # same arithmetic whatever the machine's thread count
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return _bo_step(campaign, encoder, history, k, pending, n, settings, seed, related)
    finally:
        torch.set_num_threads(threads)


def _bo_step(campaign, encoder, history, k, pending, n, settings, seed, related=()):
    problem = Problem.from_campaign(campaign)
    notes: list[str] = []
    offset = len(history) + len(pending)

    def fallback(why: str) -> tuple[list[dict[str, Any]], StrategyInfo]:
        notes.append(f"sobol fallback: {why}")
        return sobol_points(encoder, campaign.seed, offset, n), StrategyInfo("bo:sobol-fallback", notes=notes)

    obs: list[Observation] = []
    rows: list[np.ndarray] = []
    for o in history:
        try:
            rows.append(encoder.encode(o.conditions))
            obs.append(o)
        except EncodingError as e:
            notes.append(f"{o.experiment_id}: ignored ({e})")
    if not obs:
        return fallback("no usable observations")
    X = torch.as_tensor(np.stack(rows), dtype=DTYPE)
    success = torch.tensor(
        [not o.failed and all(_has(o, m) for m in problem.modelled) for o in obs], dtype=torch.bool
    )
    data: dict[str, OutcomeData] = {}
    for name in problem.modelled:
        idx = [i for i, o in enumerate(obs) if not o.failed and _has(o, name)]
        if len(idx) < 2:
            return fallback(f"fewer than 2 measurements of {name}")
        vals = [float(obs[i].outcomes[name][0]) for i in idx]
        ses = [float(obs[i].outcomes[name][1]) for i in idx]
        data[name] = make_outcome_data(X[idx], vals, ses)
    if not bool(success.any()):
        return fallback("no experiment has given every needed outcome yet")

    fitted = fit_models(data, settings)
    details: dict[str, Any] = {}
    if related:  # transfer learning: multi-task GPs where related data correlate
        from surrogates.transfer import fit_transfer

        mt, mt_notes, rhos = fit_transfer(data, related, encoder, settings)
        details["transfer"] = {"rho": rhos, "labels": [t.label for t in related],
                               "used": mt is not None}
        notes.extend(mt_notes)
        if mt is not None:
            fitted = mt
    notes.extend(fitted.notes)
    fit_seconds = fitted.seconds

    weights = []
    n_fail = int((~success).sum())
    if campaign.strategy.feasibility and n_fail:
        t = time.perf_counter()
        clf = fit_feasibility(X, success, settings.feasibility_grid)
        fit_seconds += time.perf_counter() - t
        weights.append(feasibility_weight(clf))
        notes.append(f"feasibility: {n_fail}/{len(obs)} failed; lengthscale "
                     f"{clf.lengthscale:.3g}, signal variance {clf.variance:g}")
    if campaign.strategy.proximal:
        last = pending[-1].conditions if pending else obs[-1].conditions
        try:
            x_last = torch.as_tensor(encoder.encode(last), dtype=DTYPE)
            names = list(campaign.strategy.proximal)
            weights.append(proximal_weight(x_last, encoder.unit_distance_columns(names),
                                           [campaign.strategy.proximal[m] for m in names]))
        except EncodingError as e:
            notes.append(f"proximal penalty off: {e}")

    if campaign.strategy.lab_time_aware:
        from surrogates.labcost import cooling, lab_time_weight

        last = pending[-1].conditions if pending else obs[-1].conditions
        alpha = cooling(campaign, offset)
        weights.append(lab_time_weight(campaign, encoder, last, alpha))
        notes.append(f"lab time: improvement per (lab second)^{alpha:.2f} after the last experiment")

    X_base = X[success]
    pend_rows = []
    for p in pending:
        try:
            pend_rows.append(encoder.encode(p.conditions))
        except EncodingError as e:
            notes.append(f"pending point ignored ({e})")
    X_pending = torch.as_tensor(np.stack(pend_rows), dtype=DTYPE) if pend_rows else None

    good = [o for o, s in zip(obs, success.tolist(), strict=True) if s]
    feasible = [o for o in good if problem.observed_feasible(o.outcomes)]
    best_feasible = hypervolume = ref = None
    if problem.multi:
        basis = feasible or good
        U = torch.as_tensor(np.stack([problem.observed_utilities(o.outcomes) for o in basis]), dtype=DTYPE)
        ref = reference_point(U)
        if feasible:
            front = U[is_non_dominated(U)]
            hypervolume = _finite(Hypervolume(ref).compute(front))
    elif feasible:
        spec = problem.objectives[0]
        best = max(feasible, key=lambda o: float(spec.utility_np(o.outcomes[spec.name][0])))
        best_feasible = _finite(best.outcomes[spec.name][0])

    acq, acq_name = build_acquisition(fitted.model, problem, X_base, X_pending, seed, settings,
                                      ref_point=ref, weights=weights)
    try:
        Z, value = optimize(acq, encoder, n, seed, settings, problem.multi)
    except _ACQ_ERRORS as e:
        notes.append(f"{type(e).__name__} in acquisition optimisation; retried with jitter 1e-6")
        try:
            with cholesky_jitter(float_value=1e-4, double_value=1e-6):
                Z, value = optimize(acq, encoder, n, seed, settings, problem.multi)
        except _ACQ_ERRORS as e2:
            return fallback(f"acquisition failed twice ({type(e2).__name__})")

    points: list[dict[str, Any]] = []
    spare = None
    for i, cond in enumerate(encoder.decode(Z.numpy())):
        fixed = encoder.repair(cond)
        if fixed is None:
            spare = spare or sobol_points(encoder, campaign.seed, offset, n)
            fixed = spare[i]
            notes.append("a rounded candidate violated an input constraint; used a Sobol point")
        points.append(fixed)
    info = StrategyInfo(
        strategy=f"bo:{acq_name}",
        fit_seconds=fit_seconds,
        acquisition_value=_finite(value),
        loo_rmse={k_: v for k_, v in fitted.loo_rmse.items() if math.isfinite(v)},
        best_feasible=best_feasible,
        hypervolume=hypervolume,
        notes=notes,
        details=details,
    )
    return points, info
