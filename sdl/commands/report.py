"""`sdl report DIR [--out FILE] [--json]`: write the HTML report of a run directory.

Reads the record read-only (safe while the run is live) and prints the path written
(`--json`: {"report": path}). A bad DIR is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the HTML report of a run directory")
    p.add_argument("run_dir", help="run directory")
    p.add_argument("--out", help="report file to write (default DIR/report.html)")
    p.add_argument("--json", action="store_true", help='print {"report": path} as JSON')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sdl.report import write_report

    path = write_report(Path(args.run_dir), out=Path(args.out) if args.out else None)
    if args.json:
        print(json.dumps({"report": str(path)}))
    else:
        print(path)
    return 0
