"""`sdl replay DIR --verify | --rescore [--json]`.

--verify recomputes every proposal from the recorded history (exit 1 if any differs);
--rescore re-scores raw files with the current analysis and shows what changed.
"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-verify every decision or re-score raw files")
    p.add_argument("run_dir")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--verify", action="store_true", help="recompute every proposal")
    mode.add_argument("--rescore", action="store_true", help="re-score raw files")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sdl import replay

    if args.verify:
        res = replay.verify(args.run_dir)
        out = res.to_json()
        if args.json:
            print(json.dumps(out, indent=2))
        else:
            for d in res.differences:
                print(f"DIFFERS {json.dumps(d)}")
            for k, (old, new) in out["library_versions_changed"].items():
                print(f"note: {k} was {old} when recorded, now {new}")
            print(f"{args.run_dir}: {res.decisions} decisions recomputed, "
                  f"{len(res.differences)} differ")
        return 0 if not res.differences else 1
    changes = replay.rescore(args.run_dir)
    if args.json:
        print(json.dumps({"changes": changes}, indent=2))
    else:
        for c in changes:
            print(f"{c['experiment_id']} {c['outcome']}: recorded {c['recorded']} -> now {c['now']}")
        print(f"{args.run_dir}: {len(changes)} outcome(s) changed on re-scoring")
    return 0
