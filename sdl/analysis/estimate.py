"""The two result types of every analysis: a value with its standard error, or a reason
why there is none."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Estimate:
    """A measured outcome.

    Attributes:
        value: best estimate, in the unit the outcome name states.
        stderr: one-sigma standard error, same unit, >= 0 (nan only if truly unknown).
    """

    value: float
    stderr: float

    def to_json(self) -> dict[str, float | None]:
        return {"value": _num(self.value), "stderr": _num(self.stderr)}


@dataclass(frozen=True)
class NoOutcome:
    """An outcome the measurement cannot give, never a made-up number.

    Attributes:
        reason: machine-readable code, e.g. "flat_spectrum", "saturated", "no_peak",
            "no_photons", "too_few_counts".
        detail: one human-readable sentence.
    """

    reason: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"no_outcome": self.reason, "detail": self.detail}


Outcome = Estimate | NoOutcome


def _num(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
