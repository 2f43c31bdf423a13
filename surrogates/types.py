"""Plain data at the optimiser boundary: what the loop passes in and gets back.

No torch tensors cross this boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Observation:
    """One finished experiment as the optimiser sees it.

    Attributes:
        experiment_id: id in the record.
        conditions: the parameter values run (campaign parameter names only).
        outcomes: outcome name -> (value, stderr); an outcome the analysis could not give
            is absent. Empty when the experiment failed.
        failed: True when the run produced no usable sample (clog, equipment fault,
            unviable chemistry with no measurable outcome, interlock, rejected).
        failure_kind: the failure kind (see sdl.vocab.measurement.FAILURE_KINDS) or None.
    """

    experiment_id: str
    conditions: dict[str, Any]
    outcomes: dict[str, tuple[float, float]] = field(default_factory=dict)
    failed: bool = False
    failure_kind: str | None = None


@dataclass(frozen=True)
class Proposal:
    """Conditions to run next: campaign parameter names -> values (floats, ints, strings)."""

    conditions: dict[str, Any]


@dataclass(frozen=True)
class StrategyInfo:
    """Diagnostics recorded beside each batch of proposals (JSON-able values only).

    Attributes:
        strategy: "sobol" | "random" | "bo" and, for bo, the acquisition used.
        fit_seconds: model fitting time.
        propose_seconds: total time of the propose call.
        acquisition_value: acquisition value of the chosen batch (None for space-filling).
        loo_rmse: leave-one-out error of the model per outcome (standardised units).
        best_feasible: best feasible objective value so far (single objective) or None.
        hypervolume: dominated hypervolume so far (multi-objective) or None.
        notes: anything else worth recording (e.g. "NotPSD: refit with jitter 1e-6").
        details: structured extras, e.g. "flow_order" (run order, changeover seconds) and
            "transfer" (task correlations).
    """

    strategy: str
    fit_seconds: float = 0.0
    propose_seconds: float = 0.0
    acquisition_value: float | None = None
    loo_rmse: dict[str, float] = field(default_factory=dict)
    best_feasible: float | None = None
    hypervolume: float | None = None
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
