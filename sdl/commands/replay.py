"""`sdl replay`: re-verify every decision of a run. Not built yet (issue 7)."""

from __future__ import annotations

import argparse

from sdl.errors import SdlError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-verify every decision of a run (not available yet)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise SdlError("`sdl replay` is not available in this version yet")
