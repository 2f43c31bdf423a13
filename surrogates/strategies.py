"""`propose`: the one entry point of the optimiser (sobol, random, bo).

`propose(campaign, history, k, pending, n)` is a pure function of its inputs: all
randomness derives from `(campaign.seed, k)` (Sobol scrambling from the seed alone), and
torch's global generator is forked and re-seeded inside the call, so the same inputs give
the same proposals on one machine (bit-identical float64 arithmetic assumed; different
BLAS/thread counts may change the last digits).

Kinds:
    sobol   scrambled Sobol points at offset len(history) + len(pending) (no repeats).
    random  uniform points seeded by (seed, k).
    bo      Sobol for the first `strategy.initial` experiments (counting pending ones;
            `strategy.initial_design = "lab_time"`: cheap space-filling points,
            `surrogates.labcost.lab_time_design`),
            then qLogNEI (one objective) or qLogNEHVI (several) on a GP per outcome,
            with pending experiments as X_pending, outcome constraints, the failure
            classifier (`strategy.feasibility`) and the proximal penalty
            (`strategy.proximal`). Falls back to Sobol (with a note) until at least two
            experiments have given every needed outcome.

An observation counts as a success for the feasibility model when it did not fail and
gave every modelled outcome (objectives and constrained outcomes) as a finite number;
each outcome's GP uses every non-failed observation that gave that outcome.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from surrogates.design import random_points, sobol_points
from surrogates.encoding import Encoder
from surrogates.errors import EncodingError
from surrogates.settings import DEFAULT, Settings
from surrogates.types import Observation, Proposal, StrategyInfo


def propose(
    campaign: Any,
    history: Sequence[Observation],
    k: int,
    pending: Sequence[Proposal] = (),
    n: int | None = None,
    *,
    settings: Settings | None = None,
    related: Sequence[Any] | None = None,
) -> tuple[list[Proposal], StrategyInfo]:
    """Propose the next batch of experiments.

    Args:
        campaign: a validated `sdl.schema.campaign.Campaign`.
        history: finished experiments, in the order they finished.
        k: iteration index (with `campaign.seed`, derives every random number).
        pending: proposals dispatched but not yet measured.
        n: batch size; defaults to `campaign.strategy.batch`.
        settings: optimiser effort (defaults to `surrogates.settings.DEFAULT`).
        related: `surrogates.transfer.RelatedTask`s for `[[strategy.related]]` (the
            caller reads them, e.g. `sdl.related.load_related`); required when the
            campaign names related data.

    Extensions (each off unless the campaign asks): `strategy.related` (multi-task GP,
    `surrogates.transfer`), `strategy.fidelity` (`surrogates.fidelity`) and
    `strategy.flow_order` (`surrogates.batch_order`, recorded in `info.details`).

    Returns:
        n proposals (parameter name -> value in original units: float, int for integer
        parameters, str for categorical ones) and the diagnostics of this call.

    Raises:
        EncodingError: the campaign cannot be encoded (e.g. BO with a linear input
            constraint over a log-scaled parameter).
        InfeasibleDesignError: the input constraints leave (almost) no feasible points.
    """
    t0 = time.perf_counter()
    settings = settings or DEFAULT
    n = campaign.strategy.batch if n is None else int(n)
    if n < 1:
        raise EncodingError(f"batch size n = {n}; allowed: n >= 1")
    if related is None and campaign.strategy.related:
        raise EncodingError(
            "the campaign names [[strategy.related]] data but no related tasks were given; "
            "read them with sdl.related.load_related(campaign) and pass related=")
    related = list(related or ())
    fid = campaign.strategy.fidelity
    if fid is not None:
        from surrogates.fidelity import propose_fidelity

        props, info = propose_fidelity(
            campaign, history, k, pending, n,
            lambda h, p, m: _propose(campaign, h, k, p, m, settings, related, t0))
    else:
        props, info = _propose(campaign, history, k, pending, n, settings, related, t0)
    if campaign.strategy.flow_order and len(props) > 1:
        props, info = _flow_order(campaign, history, pending, props, info)
    return props, replace(info, propose_seconds=time.perf_counter() - t0)


def _flow_order(campaign, history, pending, props, info):
    from surrogates.batch_order import order_proposals

    last = pending[-1].conditions if pending else (history[-1].conditions if history else None)
    order, cost, before = order_proposals(campaign, last, [p.conditions for p in props])
    details = {**info.details, "flow_order": {
        "order": order, "changeover_s": round(cost, 3),
        "changeover_s_proposed_order": round(before, 3)}}
    return [props[i] for i in order], replace(info, details=details)


def _propose(campaign, history, k, pending, n, settings, related, t0):
    encoder = Encoder.from_campaign(campaign)
    kind = campaign.strategy.kind
    offset = len(history) + len(pending)
    if kind == "random":
        points = random_points(encoder, campaign.seed, k, n)
        return _wrap(points), StrategyInfo("random", propose_seconds=time.perf_counter() - t0)
    if kind == "sobol":
        points = sobol_points(encoder, campaign.seed, offset, n)
        return _wrap(points), StrategyInfo("sobol", propose_seconds=time.perf_counter() - t0)
    # bo: check up front that the acquisition optimiser can take the constraints
    encoder.linear_constraints_encoded()
    if encoder.constraints:
        encoder.interior_point()
    if offset < campaign.strategy.initial and not _warm(campaign, encoder, history, related,
                                                         settings):
        if campaign.strategy.initial_design == "lab_time":
            from surrogates.labcost import CANDIDATES_PER_POINT, lab_time_design

            points = lab_time_design(campaign, encoder, campaign.strategy.initial)[offset:offset + n]
            if len(points) < n:  # a batch reaching past the design: fresh Sobol points
                points += sobol_points(encoder, campaign.seed,
                                       CANDIDATES_PER_POINT * campaign.strategy.initial,
                                       n - len(points))
            info = StrategyInfo("bo:lab-time-initial", propose_seconds=time.perf_counter() - t0)
            return _wrap(points), info
        points = sobol_points(encoder, campaign.seed, offset, n)
        info = StrategyInfo("bo:sobol-initial", propose_seconds=time.perf_counter() - t0)
        return _wrap(points), info
    from surrogates.bo import bo_step  # torch and BoTorch only when needed

    points, info = bo_step(campaign, encoder, history, k, pending, n, settings,
                           related=related)
    info = _with_time(info, time.perf_counter() - t0)
    return _wrap(points), info


def _warm(campaign, encoder, history, related, settings) -> bool:
    """Related data shown to be related: the initial design may stop early."""
    if not related:
        return False
    from surrogates.transfer import transfer_state

    return transfer_state(campaign, encoder, history, related, settings)


def _wrap(points: list[dict[str, Any]]) -> list[Proposal]:
    return [Proposal(conditions=dict(p)) for p in points]


def _with_time(info: StrategyInfo, seconds: float) -> StrategyInfo:
    return replace(info, propose_seconds=seconds)


__all__ = ["propose"]
