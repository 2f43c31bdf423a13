"""`sdl analyze g2|lifetime|blinking|spectrum FILE`: analyse one data file.

The photon analyses live in `analyze_photons`, the spectrum analysis in
`analyze_spectrum`; each registers its own sub-subcommands here.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from sdl.commands import analyze_photons, analyze_spectrum

    p = sub.add_parser("analyze", help="analyse a photon file or a spectrum")
    kinds = p.add_subparsers(dest="analysis", metavar="KIND")
    kinds.required = True
    analyze_photons.register(kinds)
    analyze_spectrum.register(kinds)
