"""`sdl replay DIR --verify | --rescore [--json]`.

--verify recomputes every proposal from the recorded history (exit 1 if any differs);
--rescore re-scores raw files with the current analysis and shows what changed.
"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-verify every decision or re-score raw files",
                       description="Recompute every recorded decision (--verify; exit 1 if any "
                       "differs) or re-score raw files with the current analysis (--rescore).")
    p.add_argument("run_dir", help="run directory to replay (read-only)")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--verify", action="store_true", help="recompute every proposal")
    mode.add_argument("--rescore", action="store_true", help="re-score raw files")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sdl import replay
    from sdl.console import plural

    if args.verify:
        res = replay.verify(args.run_dir)
        out = res.to_json()
        out["budget_extensions"] = _budget_changes(args.run_dir)
        if args.json:
            print(json.dumps(out, indent=2))
        else:
            for d in res.differences:
                print(f"DIFFERS {json.dumps(d)}")
            for k, (old, new) in out["library_versions_changed"].items():
                print(f"note: {k} was {old} when recorded, now {new}")
            for b in _budget_changes(args.run_dir):
                print(f"note: budget extended from {b['from_experiments']} to "
                      f"{b['to_experiments']} experiments ({b.get('by', '?')})")
            print(f"{args.run_dir}: {plural(res.decisions, 'decision')} recomputed, "
                  f"{len(res.differences)} differ")
        return 0 if not res.differences else 1
    changes = replay.rescore(args.run_dir)
    if args.json:
        print(json.dumps({"changes": changes}, indent=2))
    else:
        for c in changes:
            print(f"{c['experiment_id']} {c['outcome']}: recorded {c['recorded']} -> now {c['now']}")
        print(f"{args.run_dir}: {plural(len(changes), 'outcome')} changed on re-scoring")
    return 0


def _budget_changes(run_dir: str) -> list[dict]:
    """The run's `budget_extended` payloads (budget changes replay accounts for)."""
    from sdl.record import Record
    from sdl.rundir import RECORD_NAME, require_run_dir

    with Record(require_run_dir(run_dir) / RECORD_NAME, readonly=True) as rec:
        return [ev.payload for ev in rec.events() if ev.kind == "budget_extended"]
