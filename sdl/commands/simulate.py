"""`sdl simulate`: run one simulated experiment. Not built yet (issue 3)."""

from __future__ import annotations

import argparse

from sdl.errors import SdlError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="run one simulated experiment (not available yet)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise SdlError("`sdl simulate` is not available in this version yet")
