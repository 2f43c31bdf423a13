"""`sdl sweep SWEEP.toml [--workers N | --scheduler ADDR] [--out DIR] [--json]`: run many
simulated campaigns (campaign files x strategy variants x seeds), each in its own run
directory; serial by default, on Dask distributed with --workers / --scheduler (the
`cluster` extra). A rerun skips finished runs and resumes interrupted ones. Ends with
`summary.csv` and `summary.json` in the sweep's output directory.

JSON keys (--json): sweep, out_dir, tasks (rows: task_id, campaign_file, strategy, seed,
run_dir, status, action, experiments, failed, budget, experiments_to_target,
best_experiment, best_utility, best_outcomes, best_conditions, seconds, cpu_seconds),
by_strategy, wall_seconds, workers, scheduler, summary_csv, summary_json.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run many simulated campaigns (strategies x seeds), "
                                     "optionally on Dask")
    p.add_argument("sweep_file", help="sweep TOML file")
    p.add_argument("--workers", type=int, default=1,
                   help="local worker processes (default 1: serial, no Dask needed)")
    p.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--out", help="output directory (default: the sweep file's out, or sweeps/<name>)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from sdl.sweep.executor import Bar, run_tasks
    from sdl.sweep.spec import load_sweep
    from sdl.sweep.summary import by_strategy, write_summary
    from sdl.sweep.task import run_task

    sweep, tasks, out_dir = load_sweep(args.sweep_file, args.out)
    engine = (f"Dask scheduler {args.scheduler}" if args.scheduler else
              f"{args.workers} local Dask workers" if args.workers > 1 else "serial")
    t0 = time.perf_counter()
    with Bar(len(tasks), "campaign", quiet=args.json) as bar:
        if not args.json:
            bar.console.print(f"sweep '{sweep.sweep.name}': {len(tasks)} campaigns -> {out_dir} "
                              f"({engine})", markup=False)
        rows = run_tasks(run_task, tasks, workers=args.workers, scheduler=args.scheduler,
                         progress=lambda d, n, r: bar(d, n, f"{r['task_id']} {r['action']}"))
    wall = time.perf_counter() - t0
    groups = by_strategy(rows)
    meta = {"sweep": sweep.sweep.name, "out_dir": str(out_dir), "wall_seconds": round(wall, 3),
            "workers": args.workers, "scheduler": args.scheduler, "by_strategy": groups}
    csv_path, json_path = write_summary(rows, out_dir, meta)
    if args.json:
        import json

        print(json.dumps({**meta, "tasks": rows, "summary_csv": str(csv_path),
                          "summary_json": str(json_path)}, indent=2))
        return 0
    for key, g in groups.items():
        util = g["median_best_utility"]
        print(f"{key}: {g['runs']} runs, median experiments to target "
              f"{g['median_experiments_to_target']}, reached {g['reached']:.0%}, median best "
              f"utility {'n/a' if util is None else f'{util:.3f}'}")
    skipped = sum(r["action"] == "skipped" for r in rows)
    print(f"{len(rows)} campaigns in {wall:.1f} s ({skipped} already finished, skipped); "
          f"summary: {csv_path}, {json_path}")
    return 0
