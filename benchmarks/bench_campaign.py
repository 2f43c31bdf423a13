"""`sdl bench campaign`: wall time, CPU time and peak RSS of whole simulated campaigns.

Each size runs `sdl run CAMPAIGN --budget N --no-report` in a fresh subprocess (so the
import cost and the peak RSS are those a user sees) and reads the per-stage seconds from
the run's `stopped` event. CPU and peak RSS come from `resource.getrusage(RUSAGE_CHILDREN)`
deltas (ru_maxrss is the largest child so far: sizes run smallest first). On a shared
machine report wall and CPU together ("under load").

Usage: sdl bench campaign [--campaign campaigns/cdse_620nm.toml] [--budgets 16,60] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_campaign(campaign: Path, budget: int) -> dict:
    """One campaign of `budget` experiments in a subprocess; its wall, CPU, RSS, stages."""
    from sdl.record import Record
    from sdl.rundir import RECORD_NAME

    with tempfile.TemporaryDirectory(prefix="bench-campaign-") as tmp:
        out = Path(tmp) / "run"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "sdl.cli", "run", str(campaign), "--budget",
                            str(budget), "--out", str(out), "--no-report"],
                           capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            raise SystemExit(f"sdl run failed ({r.returncode}): {r.stderr[-2000:]}")
        with Record(out / RECORD_NAME, readonly=True) as rec:
            stopped = [e for e in rec.events() if e.kind == "stopped"][-1].payload
    return {
        "budget": budget, "wall_seconds": round(wall, 2),
        "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
        "experiments": stopped.get("experiments_completed"),
        "seconds_by_stage": stopped.get("seconds_by_stage", {}),
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="sdl bench campaign", description=__doc__.split("\n")[0])
    ap.add_argument("--campaign", default=str(ROOT / "campaigns" / "cdse_620nm.toml"))
    ap.add_argument("--budgets", default="16,60", help="comma-separated experiment budgets")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    budgets = sorted(int(b) for b in args.budgets.split(",") if b)
    rows = []
    for b in budgets:
        rows.append(run_campaign(Path(args.campaign), b))
        if not args.json:
            r = rows[-1]
            stages = ", ".join(f"{k} {v:.1f} s" for k, v in r["seconds_by_stage"].items())
            print(f"{b:4d} experiments: wall {r['wall_seconds']:.1f} s, CPU {r['cpu_seconds']:.1f} s, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB ({stages})", flush=True)
    if args.json:
        print(json.dumps({"campaign": args.campaign, "runs": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
