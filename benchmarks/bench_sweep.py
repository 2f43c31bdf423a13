"""`sdl bench sweep`: a sweep of many short simulated campaigns, serial and on Dask.

Builds a sweep of `--tasks` short campaigns (the CdSe campaign with kind sobol and
random, budget `--budget`, seeds 1..), runs it with `run_tasks` serially and on a local
Dask cluster of `--workers` processes (fresh output directories, so nothing is skipped),
checks the rows are identical, and reports:

* wall and CPU seconds of each path (CPU: this process and its children);
* in-task seconds (sum of each task's own wall time);
* Dask per-task overhead = (workers x Dask wall - sum of in-task seconds) / tasks: the
  cluster start-up, worker imports, scheduling and result transfer, per task.

Usage: sdl bench sweep [--tasks 100] [--budget 3] [--workers 2] [--scheduler ADDR]
                       [--skip-serial] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = ("seconds", "cpu_seconds", "action", "run_dir")


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _sweep_file(d: Path, tasks: int, budget: int) -> Path:
    seeds = (tasks + 1) // 2
    p = d / "sweep.toml"
    p.write_text(f'[sweep]\nname = "bench"\nseeds = {{first = 1, count = {seeds}}}\nbudget = {budget}\n'
                 f'[[campaigns]]\nfile = "{ROOT / "campaigns" / "cdse_620nm.toml"}"\n'
                 '[[strategies]]\nname = "sobol"\nkind = "sobol"\n'
                 '[[strategies]]\nname = "random"\nkind = "random"\n')
    return p


def _timed(tasks, workers, scheduler):
    from sdl.sweep.executor import run_tasks
    from sdl.sweep.task import run_task

    t0, c0 = time.perf_counter(), _cpu()
    rows = run_tasks(run_task, tasks, workers=workers, scheduler=scheduler)
    return rows, time.perf_counter() - t0, _cpu() - c0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="sdl bench sweep", description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--budget", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--skip-serial", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from sdl.sweep.spec import load_sweep

    out: dict = {"tasks": args.tasks, "budget": args.budget, "workers": args.workers,
                 "scheduler": args.scheduler}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        rows_by = {}
        for path in (["serial"] if not args.skip_serial else []) + ["dask"]:
            d = Path(tmp) / path
            d.mkdir()
            _, tasks, _ = load_sweep(_sweep_file(d, args.tasks, args.budget))
            tasks = tasks[: args.tasks]
            w = 1 if path == "serial" else args.workers
            rows, wall, cpu = _timed(tasks, w, None if path == "serial" else args.scheduler)
            in_task = sum(r["seconds"] for r in rows)
            rows_by[path] = [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]
            out[path] = {"wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                         "in_task_seconds": round(in_task, 2),
                         "per_task_overhead_seconds": round((w * wall - in_task) / len(tasks), 4)}
            if not args.json:
                print(f"{path:6s} {len(tasks)} campaigns x {args.budget} experiments: wall {wall:.1f} s, "
                      f"CPU {cpu:.1f} s, in-task {in_task:.1f} s, overhead/task "
                      f"{out[path]['per_task_overhead_seconds'] * 1000:.0f} ms", flush=True)
        if "serial" in rows_by:
            out["identical_rows"] = rows_by["serial"] == rows_by["dask"]
            out["speedup"] = round(out["serial"]["wall_seconds"] / out["dask"]["wall_seconds"], 2)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        if "identical_rows" in out:
            print(f"identical rows: {out['identical_rows']}; speed-up {out['speedup']}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
