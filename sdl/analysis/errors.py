"""Typed errors of the analysis core (`sdl.analysis`), its own layer.

`AnalysisError` is the base; the CLI maps it (like every layer's base, see
`sdl.errors.exit_code_of`) to one line on stderr and exit code 2.
"""

from __future__ import annotations


class AnalysisError(Exception):
    """Base of the analysis core's errors: a problem with the data given to it."""

    exit_code = 2


class AnalysisInputError(AnalysisError):
    """An input file (spectrum CSV, photon file) is malformed; the message names where."""
