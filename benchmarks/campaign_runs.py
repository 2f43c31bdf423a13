"""What the seeded benchmarks share (`sdl bench bo|transfer|fidelity|batch`): their
command line, one simulated campaign run, the seed x arm loop, summaries and the clock.

Each run is `surrogates.propose` against `benchmarks.bench_bo.BenchRig` (the simulator
with drift, clogging and 2 % equipment failures, scored by the analysis core), seeded so
that every arm of a benchmark meets the same rig streams and starts from the same
scrambled Sobol design (the campaign's seed is the benchmark seed).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
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


def seeded_parser(prog: str, doc: str, quick_help: str,
                  target_fraction: float = 0.95) -> argparse.ArgumentParser:
    """The options every seeded benchmark takes: --json, --quick, --seeds, --budget,
    --sweep (truth sweep points, 512 or quick 128) and --target-fraction."""
    ap = argparse.ArgumentParser(prog=prog, description=doc.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--sweep", type=int, default=None,
                    help="Sobol points of the truth sweep for the best score (default 512, quick 128)")
    ap.add_argument("--target-fraction", type=float, default=target_fraction,
                    help=f"target = this fraction of the best achievable score (default {target_fraction})")
    return ap


def sizes(args: argparse.Namespace, budgets: tuple[int, int] = (20, 40)) -> tuple[int, int, int]:
    """(seeds, budget, sweep points) from the parsed options: 3 seeds, budgets[0] and 128
    sweep points with --quick, else 10 seeds, budgets[1] and 512."""
    q = args.quick
    return (args.seeds or (3 if q else 10), args.budget or (budgets[0] if q else budgets[1]),
            args.sweep or (128 if q else 512))


def emit(report: dict[str, Any], args: argparse.Namespace, clock: Clock, title: str,
         arms: tuple[str, ...], columns: tuple[tuple[str, str, str], ...], footer: str) -> int:
    """Stamp the report's wall/CPU `timing` and print it: one JSON object (`--json`), or
    `title (seeds, budget; wall, CPU)`, one line per arm with the median of each
    (label, report key, format) column and its `reached`, then the `footer`; returns 0."""
    report["timing"] = clock.as_dict()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    t = report["timing"]
    print(f"{title} ({report['seeds']} seeds, budget {report['budget']}; "
          f"{t['wall_seconds']:.0f} s wall, {t['cpu_seconds']:.0f} s CPU)")
    for arm in arms:
        cols = "  ".join(f"{label} {fmt.format(report[arm][key]['median'])}" for label, key, fmt in columns)
        print(f"  {arm:14s} {cols}  reached {report[arm]['reached']:.0%}")
    print("  " + footer)
    return 0


def with_changes(campaign: Any, **changes: Any) -> Any:
    """A copy of a validated campaign with dotted keys replaced (`strategy.batch=4`)."""
    data = campaign.model_dump()
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split(".")
        for key in path:
            node = node[key]
        node[last] = value
    return type(campaign).model_validate(data)


def run_arms(label: str, problem: Any, arms: dict[str, tuple[Any, list[Any]]], seeds: int,
             budget: int, note: Callable[[str, RunTrace], str]) -> dict[str, list[RunTrace]]:
    """Every arm for seeds 1000, 1001, ...: {arm: [RunTrace per seed]}.

    Args:
        label: benchmark name for the per-seed provisional lines on stderr.
        problem: `bench_bo.BenchProblem`.
        arms: {arm: (campaign, related tasks)}, run in this order for each seed.
        seeds: number of seeds; budget: experiments per run.
        note: (arm, trace) -> the rest of the arm's stderr line.
    """
    traces: dict[str, list[RunTrace]] = {a: [] for a in arms}
    for s in range(seeds):
        for arm, (camp, related) in arms.items():
            tr = run_campaign(problem, camp, 1000 + s, budget, related=related)
            traces[arm].append(tr)
            print(f"{label} {arm:14s} seed {1000 + s}: best true score {max(tr.scores):.3f}"
                  f"{note(arm, tr)}", file=sys.stderr, flush=True)
    return traces


def run_campaign(problem: Any, campaign: Any, seed: int, budget: int, *,
                 related: list[Any] | None = None, n: int | None = None,
                 stop: Callable[[RunTrace], bool] | None = None) -> RunTrace:
    """Run `campaign` (its seed replaced by `seed`) for `budget` experiments.

    Args:
        problem: `bench_bo.BenchProblem` (material, score function, photons).
        campaign: the campaign to run (strategy as given).
        seed: benchmark seed (rig streams and the campaign seed).
        budget: experiments.
        related: related tasks for transfer (None: none).
        n: batch size (default the campaign's).
        stop: (trace so far) -> True to end the run early, checked after each experiment
            (e.g. an instrument-seconds allowance); `budget` stays the cap.
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
            if stop is not None and stop(tr):
                return tr
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
