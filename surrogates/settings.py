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
        mc_samples: quasi-MC posterior samples in qLogNEI (one objective).
        hv_mc_samples: quasi-MC samples in qLogNEHVI (several objectives). Its set-up
            builds one box decomposition of the baseline Pareto front per sample
            (`surrogates.hv_partition`, numba: ~0.2 ms each at 3 objectives and 40
            points, against ~6 ms in BoTorch's torch loop).
        hv_raw_samples: raw samples for the restart heuristic of qLogNEHVI (each is a
            full hypervolume-improvement evaluation).
        hv_num_restarts: L-BFGS-B restarts for qLogNEHVI (each evaluation is a hypervolume
            over the box decomposition's cells, ~20 ms at 3 objectives and n = 30).
        maxiter: cap on L-BFGS-B iterations per restart.
        ftol: relative change of the (log-)acquisition below which a restart stops
            (L-BFGS-B's `ftol`; BoTorch's batched L-BFGS-B stops each restart on its own).
            1e-6 on a log-acquisition is a relative change of 1e-6 in the improvement.
        max_categorical_combinations: enumerate one-hot combinations up to this many
            (optimize_acqf_mixed); beyond it the one-hot columns are relaxed and argmaxed.
        feasibility_grid: lengthscales (unit-cube units, times sqrt(d)) tried by the
            feasibility classifier's evidence maximisation.
        refit_every: full GP refit every this many observations of an outcome; in
            between, fits start from the last full fit (`surrogates.warm`); 0: always full.
        warm_maxiter: L-BFGS-B iterations cap of a warm-started fit.
        loo_jump: full refit when a warm fit's LOO RMSE exceeds this times the last full
            fit's (plus 0.1 standardised units).
        hv_alpha: qLogNEHVI's approximate box partitioning (BoTorch `alpha`, a fraction of
            the hypervolume the decomposition may ignore); 0: exact.
        fit_attempts: model fitting attempts (growing jitter) before giving up on
            hyperparameter optimisation and keeping the prior-mode hyperparameters.
    """

    num_restarts: int = 8
    raw_samples: int = 256
    mc_samples: int = 128
    hv_mc_samples: int = 32
    hv_raw_samples: int = 128
    hv_num_restarts: int = 4
    maxiter: int = 100
    ftol: float = 1e-6
    max_categorical_combinations: int = 32
    feasibility_grid: tuple[float, ...] = (0.1, 0.2, 0.4, 0.8)
    fit_attempts: int = 4
    refit_every: int = 5
    warm_maxiter: int = 30
    loo_jump: float = 1.5
    hv_alpha: float = 0.0


DEFAULT = Settings()
FAST = Settings(num_restarts=2, raw_samples=64, mc_samples=32, hv_mc_samples=16,
                hv_raw_samples=64, hv_num_restarts=2, maxiter=50)
