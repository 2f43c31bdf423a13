"""Shared driver of `sdl bench transfer|fidelity|batch`: one simulated campaign run.

Each run is `surrogates.propose` against `benchmarks.bench_bo.BenchRig` (the simulator
with drift, clogging and 2 % equipment failures, scored by the analysis core), seeded so
that every arm of a benchmark meets the same rig streams and starts from the same
scrambled Sobol design (the campaign's seed is the benchmark seed).
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class RunTrace:
    """One campaign run, experiments in run order.

    Attributes:
        conditions: proposed conditions (incl. a fidelity parameter when chosen).
        scores: true scores (hidden from the strategy), in [0, 1].
        lab: (lab seconds, solvent mL) per experiment (`bench_bo.lab_cost`).
        observations: what the strategy saw (`surrogates.types.Observation`).
        infos: the strategy info of each propose call.
    """

    conditions: list[dict[str, Any]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    lab: list[tuple[float, float]] = field(default_factory=list)
    observations: list[Any] = field(default_factory=list)
    infos: list[Any] = field(default_factory=list)


def with_changes(campaign: Any, **changes: Any) -> Any:
    """A copy of a validated campaign with dotted keys replaced (`strategy.batch=4`)."""
    from benchmarks.bench_bo import _with

    return _with(campaign, **changes)


def run_campaign(problem: Any, campaign: Any, seed: int, budget: int, *,
                 related: list[Any] | None = None, n: int | None = None) -> RunTrace:
    """Run `campaign` (its seed replaced by `seed`) for `budget` experiments.

    Args:
        problem: `bench_bo.BenchProblem` (material, score function, photons).
        campaign: the campaign to run (strategy as given).
        seed: benchmark seed (rig streams and the campaign seed).
        budget: experiments.
        related: related tasks for transfer (None: none).
        n: batch size (default the campaign's).
    """
    from benchmarks.bench_bo import BenchProblem, BenchRig
    from surrogates import propose
    from surrogates.types import Observation

    camp = with_changes(campaign, **{"campaign.seed": seed})
    prob = BenchProblem(problem.name, camp, problem.score_fn, problem.photons, problem.best)
    rig = BenchRig(prob, seed)
    tr = RunTrace()
    k = 0
    while len(tr.observations) < budget:
        props, info = propose(camp, tr.observations, k, n=n, related=related or [])
        tr.infos.append(info)
        for p in props[: budget - len(tr.observations)]:
            r = rig.run(p.conditions)
            tr.observations.append(Observation(f"e{len(tr.observations) + 1:04d}", dict(p.conditions),
                                               r.outcomes, failed=r.failure_kind is not None,
                                               failure_kind=r.failure_kind))
            tr.conditions.append(dict(p.conditions))
            tr.scores.append(r.score)
            tr.lab.append(rig.lab[-1])
        k += 1
    return tr


def summary(values: list[float]) -> dict[str, Any]:
    """{"median", "iqr": [q25, q75], "values"}."""
    q = np.percentile(values, [25, 50, 75])
    return {"median": float(q[1]), "iqr": [float(q[0]), float(q[2])], "values": values}


class Clock:
    """Wall and CPU seconds since creation (the machine is shared: report both)."""

    def __init__(self) -> None:
        self.wall0 = time.perf_counter()
        self.cpu0 = self._cpu()

    @staticmethod
    def _cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def as_dict(self) -> dict[str, float]:
        return {"wall_seconds": round(time.perf_counter() - self.wall0, 1),
                "cpu_seconds": round(self._cpu() - self.cpu0, 1)}
