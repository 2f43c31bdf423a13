"""Float64 Gaussian-process models of the outcomes, robust fitting, closed-form LOO.

One `botorch.models.SingleTaskGP` per modelled outcome (objectives and constrained
outcomes), gathered in a `ModelListGP` so each outcome keeps its own training set (an
experiment can give one outcome and not another); when all outcomes share their inputs
they are fitted as one batched multi-output SingleTaskGP (same independent GPs, faster). Inputs are the encoder's unit cube
(the known-bounds encoding is the input normalisation); outputs are standardised by
`Standardize(m=1)`. When every observation of an outcome carries a finite standard
error, the GP is heteroskedastic with fixed noise `train_Yvar = stderr**2` (floored at
1e-6 of the outcome variance so duplicated points stay well conditioned); otherwise the
noise level is inferred. Kernel and priors are BoTorch's defaults (RBF with ARD and the
dimension-scaled log-normal lengthscale prior of Hvarfner et al., ICML 2024).

Fitting is by `fit_gpytorch_mll` (L-BFGS-B on the exact marginal likelihood). A
`NotPSDError` / Cholesky failure does not crash a campaign: the fit is retried under a
larger Cholesky jitter and a higher noise floor; after `settings.fit_attempts` failures the
model keeps its prior-mode hyperparameters. Every retry is reported in the notes.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import torch
from botorch.exceptions.errors import ModelFittingError
from botorch.fit import fit_gpytorch_mll
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.transforms.outcome import Standardize
from gpytorch.constraints import GreaterThan
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.settings import cholesky_jitter
from linear_operator.utils.errors import NotPSDError

from surrogates.settings import DEFAULT, Settings

DTYPE = torch.float64
# Relative floor on fixed noise variances (fraction of the outcome's sample variance).
YVAR_FLOOR = 1e-6
_FIT_ERRORS = (NotPSDError, ModelFittingError, RuntimeError, ValueError, torch.linalg.LinAlgError)


@dataclass
class OutcomeData:
    """Training data of one outcome.

    Attributes:
        X: (n, D) float64 encoded inputs.
        Y: (n, 1) float64 observed values (original units).
        Yvar: (n, 1) float64 squared standard errors, or None to infer the noise.
    """

    X: torch.Tensor
    Y: torch.Tensor
    Yvar: torch.Tensor | None


@dataclass
class FittedModels:
    """Result of `fit_models`.

    Attributes:
        model: ModelListGP, or a batched multi-output SingleTaskGP, with one output per
            name in `outcome_names`, in that order.
        outcome_names: modelled outcome names.
        loo_rmse: closed-form leave-one-out RMSE per outcome, standardised units.
        seconds: wall time of fitting.
        notes: fitting problems and how they were handled.
    """

    model: ModelListGP | SingleTaskGP
    outcome_names: list[str]
    loo_rmse: dict[str, float]
    seconds: float
    notes: list[str] = field(default_factory=list)


def make_outcome_data(X: torch.Tensor, values: list[float], stderrs: list[float]) -> OutcomeData:
    """Assemble `OutcomeData`, using fixed noise only when every stderr is finite and >= 0."""
    Y = torch.tensor(values, dtype=DTYPE).unsqueeze(-1)
    se = torch.tensor(stderrs, dtype=DTYPE).unsqueeze(-1)
    if bool(torch.isfinite(se).all()) and bool((se >= 0).all()):
        var = float(Y.var()) if Y.shape[0] > 1 else 1.0
        floor = YVAR_FLOOR * (var if var > 0 else 1.0)
        Yvar = (se**2).clamp_min(floor)
    else:
        Yvar = None
    return OutcomeData(X.to(DTYPE), Y, Yvar)


def _build(X: torch.Tensor, Y: torch.Tensor, Yvar: torch.Tensor | None,
           noise_floor: float | None) -> SingleTaskGP:
    model = SingleTaskGP(X, Y, train_Yvar=Yvar, outcome_transform=Standardize(m=Y.shape[-1]))
    if noise_floor is not None and Yvar is None:
        model.likelihood.noise_covar.register_constraint("raw_noise", GreaterThan(noise_floor))
    return model


def _fit(X: torch.Tensor, Y: torch.Tensor, Yvar: torch.Tensor | None, label: str,
         settings: Settings, init: dict[str, torch.Tensor] | None = None,
         maxiter: int | None = None) -> tuple[SingleTaskGP, list[str]]:
    """Fit a (possibly multi-output, batched) SingleTaskGP with retries; see `fit_one`.

    `init` (hyperparameter name -> value, see `surrogates.warm`) starts the first attempt
    from those values instead of the prior's defaults; `maxiter` caps its L-BFGS-B
    iterations. Retries always start from the defaults."""
    notes: list[str] = []
    last: Exception | None = None
    yscale = Y.var(dim=0).clamp_min(1e-12) if Y.shape[0] > 1 else torch.ones(Y.shape[-1], dtype=DTYPE)
    for attempt in range(settings.fit_attempts):
        jitter = 1e-8 * 100.0**attempt
        noise_floor = None if attempt == 0 else 1e-4 * 10.0**attempt
        Yv = Yvar if (attempt == 0 or Yvar is None) else Yvar + jitter * 1e2 * yscale
        try:
            model = _build(X, Y, Yv, noise_floor)
            kwargs = {}
            if attempt == 0 and init is not None:
                model.load_state_dict(init, strict=False)
                kwargs = {"optimizer_kwargs": {"options": {"maxiter": maxiter}}} if maxiter else {}
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            with cholesky_jitter(float_value=jitter * 1e2, double_value=jitter), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_gpytorch_mll(mll, **kwargs)
            model.eval()
            if attempt:
                notes.append(f"{label}: {type(last).__name__} on fit; refit with jitter {jitter:.0e}")
            return model, notes
        except _FIT_ERRORS as e:  # NotPSD, Cholesky, optimiser failure
            last = e
    # Give up on hyperparameter optimisation: keep the prior-mode hyperparameters.
    model = _build(X, Y, Yvar, 1e-2)
    model.eval()
    notes.append(f"{label}: {type(last).__name__} after {settings.fit_attempts} fits; "
                 "using prior hyperparameters with noise floor 1e-2")
    return model, notes


def fit_one(data: OutcomeData, name: str, settings: Settings = DEFAULT) -> tuple[SingleTaskGP, list[str]]:
    """Fit one outcome's GP, retrying with more jitter on numerical failure.

    Args:
        data: the outcome's training data.
        name: outcome name (for notes).
        settings: `fit_attempts` bounds the retries.

    Returns:
        The model (eval mode) and notes describing any retry or fallback.
    """
    return _fit(data.X, data.Y, data.Yvar, name, settings)


def loo_rmse_all(model: SingleTaskGP) -> list[float]:
    """Closed-form leave-one-out RMSE per output, in standardised outcome units.

    With K = K_f + Sigma_noise and alpha = K^{-1} (y - m), the LOO residual of point i is
    alpha_i / [K^{-1}]_ii (Rasmussen & Williams 2006, Eq. 5.12). Works for single- and
    batched multi-output SingleTaskGPs.
    """
    X = model.train_inputs[0]  # (n, d) or (m, n, d)
    y = model.train_targets  # (n,) or (m, n)
    n = X.shape[-2]
    with torch.no_grad():
        K = model.covar_module(X).to_dense()
        noise = model.likelihood.noise
        noise = noise.expand(y.shape) if noise.shape[-1] == 1 else noise.reshape(y.shape)
        K = K + torch.diag_embed(noise) + 1e-10 * torch.eye(n, dtype=K.dtype)
        m = model.mean_module(X)
        try:
            L = torch.linalg.cholesky(K)
        except torch.linalg.LinAlgError:
            return [math.nan] * (1 if y.dim() == 1 else y.shape[0])
        Kinv = torch.cholesky_inverse(L)
        alpha = (Kinv @ (y - m).unsqueeze(-1)).squeeze(-1)
        r = alpha / torch.diagonal(Kinv, dim1=-2, dim2=-1)
        rmse = torch.sqrt(torch.mean(r**2, dim=-1)).reshape(-1)
    return [float(v) for v in rmse]


def loo_rmse(model: SingleTaskGP) -> float:
    """Closed-form LOO RMSE of a single-output GP (see `loo_rmse_all`)."""
    return loo_rmse_all(model)[0]


def fit_models(data: dict[str, OutcomeData], settings: Settings = DEFAULT) -> FittedModels:
    """Fit one GP per outcome.

    When every outcome has the same training inputs and the same kind of noise (the
    usual case: each successful experiment gives every outcome), the outcomes are fitted
    as one batched multi-output SingleTaskGP: the same independent GPs, each with its own
    hyperparameters, but one posterior call instead of m (several times faster in the
    acquisition loop). Otherwise they are gathered in a ModelListGP.

    Args:
        data: outcome name -> training data (order kept as the model's output order).
        settings: optimiser settings.
    """
    from surrogates.warm import fit_warm

    t0 = time.perf_counter()
    items = list(data.values())
    shared = len(items) > 1 and all(
        d.X.shape == items[0].X.shape and torch.equal(d.X, items[0].X)
        and (d.Yvar is None) == (items[0].Yvar is None) for d in items
    )
    if shared:
        Y = torch.cat([d.Y for d in items], dim=-1)
        Yvar = None if items[0].Yvar is None else torch.cat([d.Yvar for d in items], dim=-1)
        model, notes, loo_vals = fit_warm(items[0].X, Y, Yvar, "+".join(data), settings)
        loo = dict(zip(data, loo_vals, strict=True))
        return FittedModels(model, list(data), loo, time.perf_counter() - t0, notes)
    models, notes, loo = [], [], {}
    for name, d in data.items():
        m, n, loo_m = fit_warm(d.X, d.Y, d.Yvar, name, settings)
        models.append(m)
        notes.extend(n)
        loo[name] = loo_m[0]
    return FittedModels(ModelListGP(*models), list(data), loo, time.perf_counter() - t0, notes)
