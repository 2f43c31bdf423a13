"""The command line every `--quick`/`--json` benchmark shares: parse, run, print."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def bench_main(prog: str, doc: str, quick_help: str, run: Callable[[bool], dict[str, Any]],
               argv: list[str] | None, width: int = 34) -> int:
    """Parse `--json` / `--quick`, call `run(quick)` and print its figures: one JSON object,
    or one `name value` line per figure (floats to 4 significant digits)."""
    p = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help=quick_help)
    args = p.parse_args(argv)
    res = run(args.quick)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    for k, v in res.items():
        print(f"{k:{width}s} {v:.4g}" if isinstance(v, float) else f"{k:{width}s} {v}")
    return 0
