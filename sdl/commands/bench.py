"""`sdl bench g2|bo|sim|spectra|ptu|campaign|sweep [options]`: run a benchmark from `benchmarks/`.

Each benchmark module `benchmarks.bench_<target>` has `main(argv) -> int` and parses its
own options (all accept `--json`); peers come from the `bench` extra.
"""

from __future__ import annotations

import argparse
import importlib

from sdl.errors import SdlError

TARGETS = ("g2", "bo", "sim", "spectra", "ptu", "dashboard", "campaign", "sweep")
TARGETS += ("transfer", "fidelity", "batch")  # beyond the anchors (issue 19)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run a performance / sample-efficiency benchmark")
    p.add_argument("target", choices=TARGETS, help="what to benchmark")
    p.add_argument("options", nargs=argparse.REMAINDER, help="passed to the benchmark (e.g. --json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        module = importlib.import_module(f"benchmarks.bench_{args.target}")
        return int(module.main(args.options) or 0)
    except ModuleNotFoundError as e:  # an optional peer of the bench extra (some import
        # only when a peer method runs, e.g. `sdl bench bo --methods ax`)
        if e.name and e.name.split(".")[0] in ("benchmarks", "sdl", "hardware", "surrogates",
                                              "simulator"):
            raise  # our own module missing is a broken install, not a missing extra
        raise SdlError(
            f"benchmark '{args.target}' needs {e.name}: install the bench extra "
            "(.venv/bin/pip install -e '.[bench]')"
        ) from None
