"""Optimiser effort knobs (not campaign options: they change speed, not the question).

Pass a `Settings` to `surrogates.propose(..., settings=...)`; tests use `FAST`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Effort of model fitting and acquisition optimisation.

    Attributes:
        num_restarts: multi-start L-BFGS-B restarts of the acquisition optimiser.
        raw_samples: quasi-random points scored to choose the restarts.
        mc_samples: quasi-MC posterior samples in the acquisition function.
        maxiter: L-BFGS-B iterations per restart.
        max_categorical_combinations: enumerate one-hot combinations up to this many
            (optimize_acqf_mixed); beyond it the one-hot columns are relaxed and argmaxed.
        feasibility_grid: lengthscales (unit-cube units, times sqrt(d)) tried by the
            feasibility classifier's evidence maximisation.
        fit_attempts: model fitting attempts (growing jitter) before giving up on
            hyperparameter optimisation and keeping the prior-mode hyperparameters.
    """

    num_restarts: int = 8
    raw_samples: int = 256
    mc_samples: int = 128
    maxiter: int = 200
    max_categorical_combinations: int = 32
    feasibility_grid: tuple[float, ...] = (0.1, 0.2, 0.4, 0.8)
    fit_attempts: int = 4


DEFAULT = Settings()
FAST = Settings(num_restarts=2, raw_samples=64, mc_samples=32, maxiter=50)
