"""Typed errors of the optimiser layer.

Every error a user can act on derives from `sdl.errors.SdlError`, so the CLI prints it on
one line and exits with code 2 instead of a traceback.
"""

from __future__ import annotations

from sdl.errors import SdlError


class SurrogateError(SdlError):
    """Base class of errors raised by `surrogates`."""


class EncodingError(SurrogateError):
    """A campaign or a set of conditions cannot be mapped to the optimiser's unit cube.

    Examples: a linear input constraint over a log-scaled parameter used with BO, an
    infeasible set of input constraints, a value outside a parameter's range.
    """


class InfeasibleDesignError(SurrogateError):
    """No point satisfying the campaign's input constraints could be found."""
