"""`sdl bench fidelity`: photon acquisition time as a fidelity on the single-photon campaign.

Problem: `bench_bo`'s single-photon (campaigns/single_photon.toml: minimise g2_zero with
plqy >= 0.3 and 600 <= pl_peak_nm <= 630; true score 1 - g2_zero_expected when the true
outcomes meet the constraints), on the simulator with one dot's HBT photon stream per
experiment analysed by the photon core. Arms (same seeds, same Sobol initial design):
    fixed           acquisition_s = 30 s for every experiment.
    multi_fidelity  [strategy.fidelity] acquisition_s in [2, 30] s, overhead 60 s
                    (`surrogates.fidelity`: the initial design screens at 2 s; after it
                    each new point is screened at a strategy-chosen time in [2, 30] s,
                    t* = sqrt(a(x) * 60 s) / sigma_f (posterior sd of g2 at the point,
                    a(x) the local g2 noise coefficient stderr^2 * t from the analysis'
                    g2 stderrs), promising points confirmed at 30 s;
                    g2 stderr of the analysis is the GP noise).
Allowance: both arms get the same instrument time, budget x 30 s (what the fixed arm
spends on `budget` experiments); the multi-fidelity arm runs until it has spent it, or
`MF_EXPERIMENT_FACTOR` x budget experiments (its screens are cheap: an experiment cap
equal to the fixed arm's would stop it after a fifth of the fixed arm's instrument time).
Per arm also the acquisition times run per seed (acquisition_s_per_seed) and, for the
multi-fidelity arm, the distribution of its screen times (screen_s: count, quantiles, how
many at the lower bound).
Metric: instrument_seconds_to_target = summed acquisition time up to the first
full-fidelity (30 s) experiment whose true score is >= 98 % (`--target-fraction`) of the
best achievable score, i.e. a confirmed hit; a run that never confirms one is charged the
allowance + 30 s, (budget + 1) x 30 s (the benchmarks' censoring convention), and its
experiments_to_target is the experiments it ran + 1. lab_seconds_to_target alongside.

Usage: sdl bench fidelity [--json] [--quick] [--seeds N] [--first-seed S] [--budget N] [--sweep N] [--low-s S]
Full: 10 seeds, budget 40; --quick: 3 seeds, budget 20.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

HIGH_S = 30.0
LOW_S = 2.0
OVERHEAD_S = 60.0
#: Experiment cap of the multi-fidelity arm, in units of the fixed arm's budget.
MF_EXPERIMENT_FACTOR = 3


def to_target(conditions: list[dict[str, Any]], scores: list[float], best: float,
              fraction: float, budget: int) -> tuple[int, float]:
    """(experiments, instrument seconds) up to the first confirmed hit: a full-fidelity
    experiment scoring >= fraction * best. A run without one is censored the way
    experiments_to_target is everywhere in the benchmarks (experiments run + 1), and its
    seconds as the instrument allowance plus one full-fidelity experiment,
    (budget + 1) * high: charging only the cheap screens it ran would rank a run that
    never confirmed a hit above one that did."""
    secs = 0.0
    for i, (c, s) in enumerate(zip(conditions, scores, strict=True)):
        acq = float(c.get("acquisition_s", HIGH_S))
        secs += acq
        if acq >= HIGH_S and s >= fraction * best:
            return i + 1, secs
    return max(budget, len(conditions)) + 1, (budget + 1) * HIGH_S


def instrument_s(tr: Any) -> float:
    """Summed acquisition time of a run so far, s."""
    return sum(float(c.get("acquisition_s", HIGH_S)) for c in tr.conditions)


def main(argv: list[str]) -> int:
    from benchmarks.campaign_runs import seeded_parser, sizes

    ap = seeded_parser("sdl bench fidelity", __doc__, "3 seeds, budget 20", 0.98)
    ap.add_argument("--first-seed", type=int, default=1000,
                    help="first benchmark seed (default 1000), to split the seeds over processes")
    ap.add_argument("--low-s", type=float, default=LOW_S,
                    help=f"shortest screen acquisition time, s (fidelity low; default {LOW_S:g})")
    args = ap.parse_args(argv)
    low_s = args.low_s
    seeds, budget, sweep = sizes(args)
    warnings.filterwarnings("ignore")
    from benchmarks.bench_bo import make_problems
    from benchmarks.campaign_runs import Clock, emit, run_campaign, summary, with_changes

    clock = Clock()
    problem = make_problems(["single-photon"], sweep, HIGH_S)[0]
    arms = {"fixed": (problem.campaign, []),
            "multi_fidelity": (with_changes(problem.campaign, **{"strategy.fidelity": {
                "parameter": "acquisition_s", "low": low_s, "high": HIGH_S,
                "overhead_s": OVERHEAD_S}}), [])}

    def note(arm: str, tr: Any) -> str:
        return (f", instrument {instrument_s(tr):.0f} s; "
                f"vs sweep best: (experiments, instrument s) "
                f"{to_target(tr.conditions, tr.scores, problem.best, args.target_fraction, budget)}")

    allowance = budget * HIGH_S
    caps = {"fixed": budget, "multi_fidelity": MF_EXPERIMENT_FACTOR * budget}
    traces: dict[str, list[Any]] = {a: [] for a in arms}
    for s in range(seeds):
        for arm, (camp, _) in arms.items():
            tr = run_campaign(problem, camp, args.first_seed + s, caps[arm],
                              stop=lambda t: instrument_s(t) >= allowance)
            traces[arm].append(tr)
            print(f"fidelity {arm:14s} seed {args.first_seed + s}: best true score {max(tr.scores):.3f}, "
                  f"{len(tr.conditions)} experiments{note(arm, tr)}", file=sys.stderr, flush=True)
    best = max([problem.best] + [max(t.scores) for ts in traces.values() for t in ts])
    report: dict[str, Any] = {"problem": "single-photon", "seeds": seeds, "first_seed": args.first_seed,
                              "budget": budget,
                              "fidelity_s": [low_s, HIGH_S], "overhead_s": OVERHEAD_S,
                              "instrument_allowance_s": allowance,
                              "experiment_cap": caps,
                              "target_fraction": args.target_fraction, "best_score": round(best, 4)}
    for arm, ts in traces.items():
        res = [to_target(t.conditions, t.scores, best, args.target_fraction, budget) for t in ts]
        report[arm] = {"instrument_seconds_to_target": summary([round(r[1], 1) for r in res]),
                       "experiments_to_target": summary([r[0] for r in res]),
                       "lab_seconds_to_target": summary([
                           round(sum(c[0] for c in t.lab[:r[0]]), 1) for t, r in zip(ts, res, strict=True)]),
                       "experiments_run": [len(t.conditions) for t in ts],
                       "acquisition_s_per_seed": [[float(c.get("acquisition_s", HIGH_S))
                                                   for c in t.conditions] for t in ts],
                       "reached": sum(r[0] <= len(t.conditions) for r, t in zip(res, ts, strict=True))
                       / len(res)}
    screens = [float(c["acquisition_s"]) for t in traces["multi_fidelity"] for c in t.conditions
               if float(c.get("acquisition_s", HIGH_S)) < HIGH_S]
    report["multi_fidelity"]["screen_s"] = {
        "count": len(screens),
        "quantiles_5_25_50_75_95": [float(q) for q in np.percentile(screens or [0.0], [5, 25, 50, 75, 95])],
        "at_low": sum(x <= low_s for x in screens)}
    report["instrument_seconds_ratio"] = round(
        report["multi_fidelity"]["instrument_seconds_to_target"]["median"]
        / max(report["fixed"]["instrument_seconds_to_target"]["median"], 1e-9), 3)
    return emit(report, args, clock, f"single-photon, target {args.target_fraction:.0%}", tuple(arms),
                (("instrument s", "instrument_seconds_to_target", "{:7.0f}"),
                 ("experiments", "experiments_to_target", "{:5.1f}")),
                f"multi-fidelity / fixed instrument seconds: {report['instrument_seconds_ratio']:.2f}")

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
