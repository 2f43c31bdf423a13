"""`sdl export RUN [--format csv|parquet|json] [--out FILE]`: one row per experiment
(conditions, outcomes with stderr, status, failure, timestamps, raw-file sha256); CSV
to stdout by default. Columns: `sdl.export`."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from sdl.export import FORMATS

    p = sub.add_parser("export", help="export a run's experiments (CSV, Parquet, JSON)")
    p.add_argument("run_dir", metavar="RUN", help="run directory")
    p.add_argument("--format", choices=FORMATS, default="csv", help="default csv")
    p.add_argument("--out", metavar="FILE", help="write here (default: stdout; parquet needs it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from sdl.export import export

    data = export(args.run_dir, args.format, args.out)
    if data is not None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
