"""Campaign objectives and outcome constraints as utilities to maximise.

Every objective becomes a utility u(y) of its outcome y (original units), larger better:

* maximize: u = y;   minimize: u = -y.
* target t with tolerance tol (set point): u = -log(1 + ((y - t) / tol)**2).
  This smooth (Cauchy/Lorentzian) desirability is 0 at the target, -log 2 = -0.69 at
  one tolerance away, and keeps a non-vanishing slope far from the target (it grows like
  -2 log|y - t|), so the acquisition has signal everywhere; unlike -|y - t| it has no
  kink at the target, and unlike a Gaussian desirability it does not flatten to zero
  far away. It is applied to posterior samples of y, so the model stays a GP on the
  measured outcome (well-behaved), never on the transformed score.

Outcome constraints `min <= y <= max` become BoTorch constraint callables (negative means
feasible), which qLogNEI / qLogNEHVI weight with a smooth sigmoid of the sample value.
Objective `weight`s are not used by the Pareto search (the Pareto set does not depend on
them); they only matter to scalar summaries such as a benchmark score.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class ObjectiveSpec:
    """One objective: outcome name, goal, set point and tolerance (target only)."""

    name: str
    goal: str
    target: float | None = None
    tolerance: float | None = None

    def utility(self, y: torch.Tensor) -> torch.Tensor:
        """Utility of outcome values (any shape, original units); larger is better."""
        if self.goal == "maximize":
            return y
        if self.goal == "minimize":
            return -y
        return -torch.log1p(((y - self.target) / self.tolerance) ** 2)

    def utility_np(self, y: np.ndarray | float) -> np.ndarray:
        """Same as `utility` on numpy arrays or floats."""
        return self.utility(torch.as_tensor(np.asarray(y, dtype=np.float64))).numpy()


@dataclass(frozen=True)
class ConstraintSpec:
    """`lo <= outcome <= hi` (either bound optional)."""

    outcome: str
    lo: float | None
    hi: float | None

    def holds(self, y: float) -> bool:
        return (self.lo is None or y >= self.lo) and (self.hi is None or y <= self.hi)


@dataclass(frozen=True)
class Problem:
    """The optimisation problem of a campaign, outcome-wise.

    Attributes:
        objectives: objective specs in campaign order.
        constraints: outcome constraints.
        modelled: outcome names that get a GP, objectives first (the model output order).
    """

    objectives: tuple[ObjectiveSpec, ...]
    constraints: tuple[ConstraintSpec, ...]
    modelled: tuple[str, ...]

    @classmethod
    def from_campaign(cls, campaign) -> Problem:
        objs = tuple(ObjectiveSpec(o.name, o.goal, o.target, o.tolerance) for o in campaign.objectives)
        cons = tuple(ConstraintSpec(c.outcome, c.min, c.max) for c in campaign.constraints)
        names = [o.name for o in objs]
        names += [c.outcome for c in cons if c.outcome not in names]
        return cls(objs, cons, tuple(names))

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    def utilities(self, Y: torch.Tensor) -> torch.Tensor:
        """Model outputs (..., len(modelled)) -> utilities (..., n_objectives)."""
        cols = [o.utility(Y[..., self.modelled.index(o.name)]) for o in self.objectives]
        return torch.stack(cols, dim=-1)

    def constraint_callables(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """BoTorch outcome constraints: callables (..., m) -> (...), feasible when <= 0."""
        out = []
        for c in self.constraints:
            i = self.modelled.index(c.outcome)
            if c.hi is not None:
                out.append(lambda Y, i=i, hi=c.hi: Y[..., i] - hi)
            if c.lo is not None:
                out.append(lambda Y, i=i, lo=c.lo: lo - Y[..., i])
        return out

    def observed_feasible(self, outcomes: dict[str, tuple[float, float]]) -> bool:
        """True when every modelled outcome is present, finite and within its constraints."""
        for n in self.modelled:
            v = outcomes.get(n)
            if v is None or not math.isfinite(v[0]):
                return False
        return all(c.holds(outcomes[c.outcome][0]) for c in self.constraints)

    def observed_utilities(self, outcomes: dict[str, tuple[float, float]]) -> np.ndarray:
        """Utilities (n_objectives,) of observed outcome values."""
        return np.array([float(o.utility_np(outcomes[o.name][0])) for o in self.objectives])
