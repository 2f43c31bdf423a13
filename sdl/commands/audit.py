"""`sdl audit DIR [--json]`: verify the hash chain, raw files, ordering and SQLite integrity.
Exit 0 only when clean (1 when a problem is found)."""

from __future__ import annotations

import argparse

from sdl.commands import add_read_command, print_json


def register(sub: argparse._SubParsersAction) -> None:
    add_read_command(sub, "audit", help="verify a run directory has not been altered",
                     description="Verify a run: SQLite integrity, hash chain, event order, "
                     "raw-file sha256, budget, and what produced every experiment "
                     "(provenance). Exit 0 only when clean.",
                     target=("run_dir", "run directory to check (read-only)"),
                     json_help="machine-readable output", run=run)


def run(args: argparse.Namespace) -> int:
    from sdl.audit import audit
    from sdl.console import plural

    res = audit(args.run_dir)
    if args.json:
        print_json(res.to_json())
    else:
        for p in res.problems:
            print(f"PROBLEM {p}")
        for n in res.notes:
            print(f"note    {n}")
        from sdl.provenance import describe

        print(f"driven by: {describe(res.driver)}")
        by: dict[str, list[str]] = {}
        for eid, what in res.produced_by.items():
            by.setdefault(what, []).append(eid)
        for what, ids in by.items():
            span = ids[0] if len(ids) == 1 else f"{ids[0]}..{ids[-1]}"
            print(f"  {span} ({plural(len(ids), 'experiment')}): {what}")
        verdict = "clean" if res.clean else plural(len(res.problems), "problem")
        print(f"{args.run_dir}: {verdict}; {plural(res.events, 'event')}, "
              f"{plural(res.raw_files, 'raw file')}, "
              f"head hash {res.head_hash}")
    return 0 if res.clean else 1
