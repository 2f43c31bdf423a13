"""Typed errors of the optimiser layer.

`SurrogateError` is the layer's base; the CLI maps it (`sdl.errors.exit_code_of`) to one
line on stderr and exit code 2 instead of a traceback.
"""

from __future__ import annotations


class SurrogateError(Exception):
    """Base class of errors raised by `surrogates`."""

    exit_code = 2


class EncodingError(SurrogateError):
    """A campaign or a set of conditions cannot be mapped to the optimiser's unit cube.

    Examples: a linear input constraint over a log-scaled parameter used with BO, an
    infeasible set of input constraints, a value outside a parameter's range.
    """


class InfeasibleDesignError(SurrogateError):
    """No point satisfying the campaign's input constraints could be found."""
