"""Lab time in the acquisition: improvement per lab second (`strategy.lab_time_aware`).

A flow rig pays for every change of conditions: the heaters settle to a new set point and
the reactor is flushed at the new flows before anything is measured. With
`strategy.lab_time_aware = true` the acquisition maximised is the expected improvement
per lab second of each proposed experiment (Snoek, Larochelle & Adams, NeurIPS 2012,
"EI per second"), in log space as every weight here (`surrogates.acquisition`):

    log alpha(X) - a log(lab_s(X) / 60 s)

(a the cost exponent, cooled from 1 to 0 as the budget is spent: EI-cool of Lee, Perrone,
Archambeau & Seeger 2020, arXiv:2003.10870; lab_s(X) the summed lab time of the batch X)

with lab_s the lab-time model of `sdl.vocab.labtime` for running x right after the
last experiment (run or pending), in a form smooth in the encoded point so L-BFGS-B can
follow its gradient:

    settle_s  = (dT / ramp * 60 + stable_for) * sigmoid((dT - band) / (band / 20))
                dT = the largest set-point change over the heaters (soft |.|: sqrt(d^2 +
                (band/100)^2)); 0 for heaters the campaign does not vary.
                The step at the band (no re-settling inside it) becomes a sigmoid a
                twentieth of the band wide (< 1e-7 s of settling at dT = 0).
    flush_s   = n (residence_time_s + V_stage2 / V_core * residence_time_s)
                (labtime: n (V_core / Q_core + V_stage2 / Q_total) with Q_core = 60
                V_core / residence; Q_total >= Q_core, so the stage-2 term is an upper
                bound, exact without shell or exchange streams.)
    lab_s     = settle_s + flush_s + measure_overhead_s + acquisition_s (fixed)

With a batch (q > 1) the points are charged as run in the proposed order (point i
settles from point i - 1); `strategy.flow_order` may then find a cheaper order, so this
is an upper bound on the batch's changeover. The rig constants are
`sdl.vocab.labtime.DEFAULT_TIMING` (the simulator's rig), as for `strategy.flow_order`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from sdl.vocab.labtime import DEFAULT_TIMING, HEATED, FlowTiming
from surrogates.encoding import Encoder, ParamCoding
from surrogates.models import DTYPE

#: Lab seconds the log weight is measured in (a constant offset; it does not move the
#: argmax, it keeps recorded acquisition values in a readable range).
UNIT_S = 60.0


def _decode(coding: ParamCoding, X: torch.Tensor) -> torch.Tensor:
    """Original units of one numeric parameter from encoded points X (..., D)."""
    u = X[..., coding.start].clamp(0.0, 1.0)
    if coding.log:
        lo, hi = math.log(coding.low), math.log(coding.high)
        return torch.exp(lo + u * (hi - lo))
    return coding.low + u * (coding.high - coding.low)


def _value(name: str, encoder: Encoder, fixed: Mapping[str, Any], X: torch.Tensor
           ) -> torch.Tensor | float | None:
    """A condition as a tensor (a parameter), a float (fixed or default) or None."""
    from sdl.vocab.conditions import CONDITIONS

    c = encoder.by_name.get(name)
    if c is not None and c.kind != "categorical":
        return _decode(c, X)
    if name in fixed and not isinstance(fixed[name], str):
        return float(fixed[name])
    spec = CONDITIONS.get(name)
    return None if spec is None or isinstance(spec.default, str) else float(spec.default)


def lab_seconds(campaign: Any, encoder: Encoder, last: Mapping[str, Any] | None,
                X: torch.Tensor, timing: FlowTiming = DEFAULT_TIMING,
                chain: bool = False) -> torch.Tensor:
    """Smooth lab seconds of running each encoded point after `last` (see module doc).

    Args:
        campaign: validated campaign (`fixed` completes the conditions).
        encoder: its encoder.
        last: conditions of the last experiment run or pending (None: nothing before).
        X: encoded points (..., D); with `chain`, batches (..., q, D) run in order.
        timing: rig constants.
        chain: point i of a batch settles from point i - 1 (the first from `last`);
            without it every point settles from `last`.

    Returns:
        Lab seconds, shape X.shape[:-1].
    """
    fixed = dict(campaign.fixed)
    shape = X.shape[:-1]
    band = max(timing.temperature_band_c, 1e-3)
    dt = torch.zeros(shape, dtype=DTYPE)
    for name in HEATED:
        now = _value(name, encoder, fixed, X)
        if not isinstance(now, torch.Tensor):
            continue  # a heater the campaign holds fixed never re-settles
        # nothing before (or a heater the last experiment did not set): no change
        first = (torch.full_like(now[..., :1] if chain else now, float(last[name]))
                 if last is not None and name in last else (now[..., :1] if chain else now))
        prev = torch.cat([first, now[..., :-1]], dim=-1) if chain else first
        d = torch.sqrt((now - prev) ** 2 + (band / 100.0) ** 2)
        dt = torch.maximum(dt, d)
    settle = ((dt / timing.ramp_c_per_min * 60.0 + timing.stable_for_s)
              * torch.sigmoid((dt - band) / (band / 20.0)))
    res = _value("residence_time_s", encoder, fixed, X)
    res = res if isinstance(res, torch.Tensor) else torch.full(shape, float(res or 0.0), dtype=DTYPE)
    flush = timing.flush_volumes * res * (1.0 + timing.stage2_volume_ul / timing.reactor_volume_ul)
    acq = fixed.get("acquisition_s", 0.0)
    acq = 0.0 if isinstance(acq, str) else float(acq)
    return settle + flush + timing.measure_overhead_s + acq


def cooling(campaign: Any, done: int) -> float:
    """Cost exponent after `done` experiments (run + pending): EI-cool's
    (B - done) / (B - initial) clipped to [0, 1], B = budget.experiments (Lee et al. 2020)."""
    b, n0 = campaign.budget.experiments, campaign.strategy.initial
    if b <= n0:
        return 1.0
    return min(max((b - done) / (b - n0), 0.0), 1.0)


def lab_time_weight(campaign: Any, encoder: Encoder, last: Mapping[str, Any] | None,
                    exponent: float = 1.0, timing: FlowTiming = DEFAULT_TIMING):
    """Log weight of a batch, -exponent * log(summed lab seconds / UNIT_S), split over its
    points: X (b, q, D) -> (b, q), point i carrying -exponent * log(S_i / S_(i-1)) with
    S_i = the lab seconds of points 1..i run in order (`lab_seconds(chain=True)`) and
    S_0 = UNIT_S, so the sum over the batch telescopes to -exponent * log(S_q / UNIT_S): the batch's
    improvement per lab second of the whole batch, not per point (a per-point sum of logs
    would charge a batch of q the cost q times over)."""
    def w(X: torch.Tensor) -> torch.Tensor:
        secs = lab_seconds(campaign, encoder, last, X, timing, chain=True)
        S = torch.cumsum(secs, dim=-1)
        prev = torch.cat([torch.full_like(S[..., :1], UNIT_S), S[..., :-1]], dim=-1)
        return -exponent * torch.log(S / prev)

    return w


def lab_time_design(campaign: Any, encoder: Encoder, n_design: int,
                    timing: FlowTiming = DEFAULT_TIMING) -> list[dict[str, Any]]:
    """A cheap space-filling initial design of `n_design` points, in run order.

    From the campaign's first `CANDIDATES_PER_POINT * n_design` scrambled Sobol points
    (`surrogates.design.sobol_points`), greedily take the point with the largest
    (distance to the points already taken, encoded space) / (its lab seconds without
    settling: flush + measurement + fixed acquisition); the first pick is the cheapest.
    Then run them in order of rising heater set point, so the heaters only ever step up
    (settling is the one order-dependent cost). A cost-effective initial design in the
    spirit of CArBO's (Lee et al. 2020); the rule here is our own.
    """
    from surrogates.design import sobol_points

    cands = sobol_points(encoder, campaign.seed, 0, CANDIDATES_PER_POINT * n_design)
    Z = torch.as_tensor(encoder.encode_many(cands), dtype=DTYPE)
    cost = lab_seconds(campaign, encoder, None, Z, timing)
    taken: list[int] = []
    dmin = torch.full((len(cands),), float("inf"), dtype=DTYPE)
    for _ in range(min(n_design, len(cands))):
        score = (1.0 if not taken else dmin) / cost
        if taken:
            score[taken] = -1.0
        i = int(torch.argmax(score)) if taken else int(torch.argmin(cost))
        taken.append(i)
        dmin = torch.minimum(dmin, torch.linalg.vector_norm(Z - Z[i], dim=-1))
    heat = [h for h in HEATED if h in encoder.by_name and encoder.by_name[h].kind != "categorical"]
    taken.sort(key=lambda i: tuple(float(cands[i][h]) for h in heat))
    return [cands[i] for i in taken]


#: Sobol candidates per design point for `lab_time_design`.
CANDIDATES_PER_POINT = 8
