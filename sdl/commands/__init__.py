"""Subcommands of `sdl`; each module has `register(subparsers)` and a handler."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def add_read_command(sub: argparse._SubParsersAction, name: str, *, help: str,
                     description: str, target: tuple[str, str], json_help: str,
                     run: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    """Register a read-only subcommand taking one path (`target` = (dest, help)) and
    `--json`; `run(args)` is its handler and returns the exit code."""
    p = sub.add_parser(name, help=help, description=description)
    p.add_argument(target[0], help=target[1])
    p.add_argument("--json", action="store_true", help=json_help)
    p.set_defaults(func=run)
    return p


def print_json(obj: Any) -> None:
    """Print `obj` as indented JSON (the `--json` output of the read-only subcommands)."""
    print(json.dumps(obj, indent=2))


def save_figure(fig: Any, path: Any, dpi: int, error: Callable[[OSError], Exception]) -> None:
    """Write a pyplot figure to `path` and close it; an `OSError` becomes `error(e)`, raised
    without the traceback chain."""
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, dpi=dpi)
    except OSError as e:
        raise error(e) from None
    finally:
        plt.close(fig)
