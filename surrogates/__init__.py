"""Parameter encoding, BoTorch models, acquisition and proposal strategies.

The public entry point is `surrogates.propose` (see `surrogates.strategies.propose`);
it is resolved lazily so `import surrogates` does not import torch.

Modules, one job each:
    encoding     campaign parameters <-> unit cube; linear input constraints.
    design       seeded scrambled Sobol and random designs (no torch).
    settings     optimiser effort knobs (restarts, raw samples, MC samples).
    models       float64 SingleTaskGP per outcome, robust fitting, closed-form LOO.
    objectives   maximize / minimize / smooth set-point desirability; outcome constraints.
    feasibility  Laplace-approximated GP classifier for failed experiments.
    acquisition  qLogNEI / qLogNEHVI, feasibility and proximal weighting, optimisation.
    bo           one BO step: data -> models -> acquisition -> decoded proposals.
    strategies   `propose`: sobol, random and bo behind one function.
    errors       typed errors (base SurrogateError: one-line CLI messages, exit 2).
"""

from __future__ import annotations

from typing import Any

__all__ = ["propose"]


def __getattr__(name: str) -> Any:
    if name == "propose":
        from surrogates.strategies import propose

        return propose
    raise AttributeError(f"module 'surrogates' has no attribute {name!r}")
