"""`sdl bench batch`: flow-aware order of batches of 4 on the CdSe colour campaign.

Problem: `bench_bo`'s cdse-colour (campaigns/cdse_620nm.toml reduced to PL 620 +/- 3 nm,
proximal penalty off), batch q = 4, on the simulator. Arms, same seeds and the same
initial Sobol design:
    unordered  proposals run in the order the acquisition returned them.
    ordered    flow-aware: `strategy.lab_time_aware = true` (the acquisition carries
               each proposal's changeover cost, settling + flush after the last
               experiment: improvement per lab second, `surrogates.labcost`) and
               `strategy.flow_order = true` (each batch run in the order of least
               changeover time from the last experiment, `surrogates.batch_order`,
               exact over the 4! orders; cost = heater settling of `sdl.vocab.labtime`).
    order_only `strategy.flow_order = true` alone (what ordering by itself buys).
Metrics: experiments_to_target (first experiment whose true score is >= 95 % of the best
achievable, budget + 1 when never) and lab_seconds_to_target (settle + flush +
measurement of every experiment up to it, the simulator's lab-time model).

Usage: sdl bench batch [--json] [--quick] [--seeds N] [--budget N] [--sweep N]
Full: 10 seeds, budget 40; --quick: 3 seeds, budget 20.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any


def main(argv: list[str]) -> int:
    from benchmarks.campaign_runs import seeded_parser, sizes

    ap = seeded_parser("sdl bench batch", __doc__, "3 seeds, budget 20")
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args(argv)
    seeds, budget, sweep = sizes(args)
    warnings.filterwarnings("ignore")
    from benchmarks.bench_bo import experiments_to_target, make_problems
    from benchmarks.campaign_runs import Clock, emit, run_arms, summary, with_changes

    clock = Clock()
    problem = make_problems(["cdse-colour"], sweep, None)[0]
    base = with_changes(problem.campaign, **{"strategy.proximal": {}, "strategy.batch": args.batch})
    arms = {"unordered": (with_changes(base, **{"strategy.flow_order": False}), []),
            "ordered": (with_changes(base, **{"strategy.flow_order": True,
                                              "strategy.lab_time_aware": True}), []),
            "order_only": (with_changes(base, **{"strategy.flow_order": True}), [])}

    def note(arm: str, tr: Any) -> str:
        n = experiments_to_target(tr.scores, problem.best, budget, args.target_fraction)
        return (f", lab {sum(c[0] for c in tr.lab) / 60:.0f} min; vs sweep best: experiments "
                f"{n}, lab {sum(c[0] for c in tr.lab[:n]):.0f} s")

    traces = run_arms("batch", problem, arms, seeds, budget, note)
    best = max([problem.best] + [max(t.scores) for ts in traces.values() for t in ts])
    report: dict[str, Any] = {"problem": "cdse-colour", "batch": args.batch, "seeds": seeds,
                              "budget": budget, "target_fraction": args.target_fraction,
                              "best_score": round(best, 4)}
    for arm, ts in traces.items():
        ett = [experiments_to_target(t.scores, best, budget, args.target_fraction) for t in ts]
        lab = [round(sum(c[0] for c in t.lab[:n]), 1) for t, n in zip(ts, ett, strict=True)]
        ml = [round(sum(c[1] for c in t.lab[:n]), 3) for t, n in zip(ts, ett, strict=True)]
        changeover = [round(sum(i.details.get("flow_order", {}).get("changeover_s", 0.0)
                                for i in t.infos), 1) for t in ts]
        report[arm] = {"lab_seconds_to_target": summary(lab),
                       "experiments_to_target": summary(ett),
                       "solvent_ml_to_target": summary(ml),
                       "estimated_changeover_s": summary(changeover),
                       "reached": sum(v <= budget for v in ett) / len(ett)}
    u, o = report["unordered"], report["ordered"]
    report["lab_seconds_ratio_ordered_vs_unordered"] = round(
        o["lab_seconds_to_target"]["median"] / max(u["lab_seconds_to_target"]["median"], 1e-9), 3)
    report["lab_seconds_ratio_order_only_vs_unordered"] = round(
        report["order_only"]["lab_seconds_to_target"]["median"]
        / max(u["lab_seconds_to_target"]["median"], 1e-9), 3)
    return emit(report, args, clock, f"cdse-colour, batches of {args.batch}", tuple(arms),
                (("experiments", "experiments_to_target", "{:5.1f}"),
                 ("lab s", "lab_seconds_to_target", "{:7.0f}"),
                 ("solvent mL", "solvent_ml_to_target", "{:.1f}")),
                f"ordered / unordered lab seconds: {report['lab_seconds_ratio_ordered_vs_unordered']:.2f}")

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
