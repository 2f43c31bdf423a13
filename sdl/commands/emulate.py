"""`sdl emulate`: start emulated devices for a rig file. Not built yet (issue 8)."""

from __future__ import annotations

import argparse

from sdl.errors import SdlError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emulate", help="start emulated devices for a rig file (not available yet)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise SdlError("`sdl emulate` is not available in this version yet")
