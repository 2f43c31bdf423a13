"""`sdl audit DIR [--json]`: verify the hash chain, raw files, ordering and SQLite integrity.
Exit 0 only when clean (1 when a problem is found)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="verify a run directory has not been altered")
    p.add_argument("run_dir")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sdl.audit import audit

    res = audit(args.run_dir)
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    else:
        for p in res.problems:
            print(f"PROBLEM {p}")
        for n in res.notes:
            print(f"note    {n}")
        verdict = "clean" if res.clean else f"{len(res.problems)} problem(s)"
        print(f"{args.run_dir}: {verdict}; {res.events} events, {res.raw_files} raw files, "
              f"head hash {res.head_hash}")
    return 0 if res.clean else 1
