"""`sdl` command line: one subcommand per module in `sdl.commands`.

Each command module exposes `register(subparsers)`; it must import nothing heavy at
module level (torch, numba kernels and drivers are imported inside the handler) so that
`sdl --help` and `sdl validate` stay fast. Errors the user can act on (any layer's error
base, `sdl.errors.exit_code_of`) print as one line on stderr and exit non-zero; a
traceback is shown only with SDL_DEBUG=1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from sdl import __version__
from sdl.errors import exit_code_of

COMMAND_MODULES = (
    "run",
    "resume",
    "status",
    "report",
    "replay",
    "audit",
    "validate",
    "schema",
    "emulate",
    "devices",
    "simulate",
    "analyze",
    "bench",
    "serve",
    "export",
    "show",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdl",
        description="Self-driving lab for colloidal quantum-dot flow synthesis.",
    )
    parser.add_argument("--version", action="version", version=f"sdl {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging (-v info, -vv debug incl. device bytes)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"sdl.commands.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        print(f"sdl {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # noqa: BLE001 - last line of defence: one line, not a traceback
        user_code = exit_code_of(e)  # any layer's error base: the user can act on it
        if user_code is not None:
            print(f"sdl {args.command}: error: {e}", file=sys.stderr)
            return user_code
        if os.environ.get("SDL_DEBUG"):
            raise
        print(
            f"sdl {args.command}: internal error: {type(e).__name__}: {e} "
            "(rerun with SDL_DEBUG=1 for the traceback and please report it)",
            file=sys.stderr,
        )
        return 3
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
