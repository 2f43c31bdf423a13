"""Transfer learning between campaigns: a multi-task GP over the current and related tasks.

Model: BoTorch's `MultiTaskGP` (intrinsic coregionalisation, Bonilla et al., NIPS 2007;
its use in BO: Swersky et al., NIPS 2013) per modelled outcome that the related data
give: k((x, i), (x', j)) = k_x(x, x') B_ij with B a positive task covariance
(`PositiveIndexKernel`), learnt by maximum marginal likelihood together with the input
kernel, with NO prior on the task correlation and a neutral start (every correlation
`RHO_INIT`). BoTorch's default prior, Beta(2.5, 1.5) on the correlation (mode 0.75),
decides rho whenever the few current-task points leave it unidentified: it gave rho
0.55-0.75 to related data whose outcomes had been permuted across experiments (no
relation at all), i.e. above `RHO_MIN`. Without it the same data give rho 0.00-0.05,
while the earlier campaign on the same rig gives 1.00 from 2 current points on.
Task 0 is the current campaign, tasks 1.. the related sources in file order; the
model predicts task 0 only (`output_tasks=[0]`), so the acquisition sees an ordinary
d-input model. Noise: the analysis' standard errors as fixed noise when every point of
every task carries one (as `surrogates.models`), else inferred.

Each task has its own constant mean (gpytorch `MultitaskMean`), so a level offset between
tasks (another material's PL 200 nm bluer) is a mean, not something the task covariance
must explain.

How related the tasks are: the correlation rho_0j = B_0j / sqrt(B_00 B_jj). Sources with
rho < `RHO_MIN` are dropped and the model refitted without them. The correlation alone is
no test: a related campaign's outcomes permuted across its experiments (the permutation
null) still fit with rho ~1, since its many precise points force a rough shared function
that the few current points cannot refute. So the multi-task model is dropped when it
predicts the current task's own points clearly worse than the single-task GP: closed-form
leave-one-out log predictive density (`loo_log_density`) with vs without the related
data, lower by more than `LOG_PSEUDO_BAYES_DROP`. Then, or when no source is left, the
outcome gets the ordinary single-task GP of a cold start. The campaign's strategy
(`surrogates.strategies`) also runs the cold start's Sobol design unless the data show a
related source (see `transfer_state`), so unrelated data leave the campaign a cold start.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Least correlation with the current task for a related source to be used.
RHO_MIN = 0.5
#: Starting task correlation of every fit (neutral: the data move it either way).
RHO_INIT = 0.5
#: Log pseudo-Bayes factor (difference of leave-one-out log densities, Geisser & Eddy
#: 1979) in favour of the single-task model above which named related data are dropped:
#: 1 = "positive" evidence on Kass & Raftery's (1995) scale (2 ln B > 2). A tie keeps
#: the data the user named; at 2-4 current points the genuinely related campaign trailed
#: the single-task model by up to 1.3 nats, the permuted null by 1.0-30.
LOG_PSEUDO_BAYES_DROP = 1.0
#: Sobol points of the current task before the multi-task model may take over.
WARM_INITIAL = 2


@dataclass(frozen=True)
class RelatedTask:
    """One related source as the optimiser sees it.

    Attributes:
        label: free text from the campaign file.
        source: path as given; sha256: hex digest of its bytes (run: of its export CSV).
        observations: its finished experiments (conditions in this campaign's parameters).
    """

    label: str
    source: str
    sha256: str
    observations: tuple = field(default_factory=tuple)


def fit_multitask(X_tasks: Sequence[Any], Y_tasks: Sequence[Any],
                  Yvar_tasks: Sequence[Any] | None = None):
    """Fit a MultiTaskGP on per-task data; returns (model predicting task 0, rho (T,)).

    Args:
        X_tasks: per task, (n_t, D) float64 tensors in the unit cube (task 0 current).
        Y_tasks: per task, (n_t, 1) float64 tensors.
        Yvar_tasks: per task, (n_t, 1) noise variances, or None to infer the noise.

    Returns:
        The fitted model (eval mode, `output_tasks=[0]`) and the correlation of each task
        with task 0 (rho[0] = 1).
    """
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import MultiTaskGP
    from gpytorch.means import ConstantMean, MultitaskMean
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from surrogates.models import DTYPE

    Xs, Ys, Vs = [], [], []
    for t, (X, Y) in enumerate(zip(X_tasks, Y_tasks, strict=True)):
        Xs.append(torch.cat([X.to(DTYPE), torch.full((X.shape[0], 1), float(t), dtype=DTYPE)], -1))
        Ys.append(Y.to(DTYPE))
        if Yvar_tasks is not None:
            Vs.append(Yvar_tasks[t].to(DTYPE))
    X = torch.cat(Xs)
    Y = torch.cat(Ys)
    Yvar = torch.cat(Vs) if Yvar_tasks is not None else None
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: threads only add contention (and last digits)
    try:
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            torch.manual_seed(0)  # the task kernel's random start: a function of the data only
            model = MultiTaskGP(X, Y, task_feature=-1, train_Yvar=Yvar, output_tasks=[0],
                                all_tasks=list(range(len(Xs))), task_covar_prior=None,
                                mean_module=MultitaskMean(ConstantMean(), num_tasks=len(Xs)))
            if len(Xs) > 1:  # neutral, deterministic start: every correlation RHO_INIT
                tk = model.covar_module.kernels[1]
                n_low = len(Xs) * (len(Xs) - 1) // 2
                tk._set_lower_triangle_corr(torch.full((n_low,), RHO_INIT, dtype=DTYPE))
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            warnings.simplefilter("ignore")
            fit_gpytorch_mll(mll)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return model, task_correlation(model)


def task_correlation(model: Any) -> np.ndarray:
    """Correlation of each task with task 0 from a fitted MultiTaskGP's task covariance."""
    import torch

    with torch.no_grad():
        B = model.covar_module.kernels[1].covar_matrix.to_dense() if hasattr(
            model.covar_module.kernels[1].covar_matrix, "to_dense") else \
            model.covar_module.kernels[1].covar_matrix
        d = torch.sqrt(torch.diagonal(B))
        rho = B[0] / (d[0] * d)
    return rho.detach().numpy().astype(float)


def loo_log_density(model: Any, n_current: int) -> float:
    """Leave-one-out log predictive density of a fitted exact GP's first `n_current`
    training points (the current task's, in original outcome units).

    Closed form (Rasmussen & Williams 2006, Eq. 5.10-5.12): with K = K_f + Sigma_noise over
    all training points and alpha = K^-1 (y - m), point i left out has mean y_i - alpha_i /
    [K^-1]_ii and variance 1 / [K^-1]_ii, its neighbours (and every related point) kept.
    Standardised targets are mapped back by the model's `Standardize` scale. -inf when K
    is not positive definite.
    """
    import torch

    X = model.train_inputs[0]
    y = model.train_targets
    with torch.no_grad():
        prior = model.forward(X)
        noise = model.likelihood.noise.reshape(-1).expand(y.shape)
        K = prior.covariance_matrix + torch.diag(noise) \
            + 1e-10 * torch.eye(len(y), dtype=y.dtype)
        try:
            L = torch.linalg.cholesky(K)
        except torch.linalg.LinAlgError:
            return -math.inf
        Kinv = torch.cholesky_inverse(L)
        var = 1.0 / torch.diagonal(Kinv)
        r = (Kinv @ (y - prior.mean)) * var
        scale = float(model.outcome_transform.stdvs.reshape(-1)[0]) \
            if getattr(model, "outcome_transform", None) is not None else 1.0
        lp = -0.5 * torch.log(2 * math.pi * var) - 0.5 * r**2 / var - math.log(scale)
    return float(lp[:n_current].sum())


def related_rows(tasks: Sequence[RelatedTask], encoder: Any, name: str):
    """Per task: (X (n, D) float64 array, values, stderrs) of the non-failed observations
    that gave `name` and encode in this campaign (others skipped)."""
    out = []
    for t in tasks:
        rows, vals, ses = [], [], []
        for o in t.observations:
            v = o.outcomes.get(name)
            if o.failed or v is None or not math.isfinite(float(v[0])):
                continue
            try:
                rows.append(encoder.encode(o.conditions))
            except Exception:  # EncodingError: outside this campaign's space
                continue
            vals.append(float(v[0]))
            ses.append(float(v[1]))
        out.append((np.stack(rows) if rows else np.zeros((0, encoder.dim)), vals, ses))
    return out


def fit_transfer(data: dict[str, Any], tasks: Sequence[RelatedTask], encoder: Any,
                 settings: Any) -> tuple[Any | None, list[str], dict[str, list[float]]]:
    """Multi-task models of the outcomes the related data give.

    Args:
        data: outcome name -> `surrogates.models.OutcomeData` of the current task.
        tasks: related sources.
        encoder: the campaign's encoder.
        settings: optimiser settings (single-task refits).

    Returns:
        (FittedModels with a ModelListGP — multi-task models where a related source
        correlates with rho >= RHO_MIN, single-task ones elsewhere — or None when no
        outcome uses a related source; notes; rho per outcome over the related tasks).
    """
    import torch
    from botorch.models import ModelListGP

    from surrogates.models import DTYPE, FittedModels, fit_one, loo_rmse, make_outcome_data

    t0 = time.perf_counter()
    models, notes, rhos, loo, used_any = [], [], {}, {}, False
    for name, d in data.items():
        per_task = related_rows(tasks, encoder, name)
        keep = [i for i, (Xr, _, _) in enumerate(per_task) if len(Xr) >= 2]
        model = None
        rho_all = [math.nan] * len(tasks)
        while keep and d.X.shape[0] >= 1:
            Xt = [d.X] + [torch.as_tensor(per_task[i][0], dtype=DTYPE) for i in keep]
            parts = [make_outcome_data(Xt[j + 1], per_task[i][1], per_task[i][2])
                     for j, i in enumerate(keep)]
            Yt = [d.Y] + [p.Y for p in parts]
            Vt = None
            if d.Yvar is not None and all(p.Yvar is not None for p in parts):
                Vt = [d.Yvar] + [p.Yvar for p in parts]
            try:
                model, rho = fit_multitask(Xt, Yt, Vt)
            except Exception as e:  # numerical failure: cold start for this outcome
                notes.append(f"transfer {name}: {type(e).__name__} in the multi-task fit; "
                             "single-task model")
                model = None
                break
            for j, i in enumerate(keep):
                rho_all[i] = float(rho[j + 1])
            weak = [i for j, i in enumerate(keep) if rho[j + 1] < RHO_MIN]
            if not weak:
                break
            keep = [i for i in keep if i not in weak]
            model = None
        rhos[name] = rho_all
        single = None
        if model is not None and keep:  # does the related data predict this task better?
            single, st_notes = fit_one(d, name, settings)
            n0 = d.X.shape[0]
            lpd_mt, lpd_st = loo_log_density(model, n0), loo_log_density(single, n0)
            if lpd_st - lpd_mt > LOG_PSEUDO_BAYES_DROP:
                notes.extend(st_notes)
                notes.append(f"transfer {name}: related data not used (they predict this "
                             f"campaign's {n0} points worse: leave-one-out log density "
                             f"{lpd_mt:.1f} with them, {lpd_st:.1f} without)")
                model, keep = None, []
        if model is not None and keep:
            used_any = True
            labels = ", ".join(f"{tasks[i].label or tasks[i].source} rho {rho_all[i]:.2f}"
                               for i in keep)
            notes.append(f"transfer {name}: multi-task GP with {labels}")
            models.append(model)
            loo[name] = math.nan
        else:
            if single is None:
                single, st_notes = fit_one(d, name, settings)
                notes.extend(st_notes)
            m = single
            models.append(m)
            loo[name] = loo_rmse(m) if d.X.shape[0] >= 3 else math.nan
            if any(math.isfinite(r) and r < RHO_MIN for r in rho_all):
                notes.append(f"transfer {name}: related data not used (rho "
                             + ", ".join(f"{r:.2f}" for r in rho_all) + f" < {RHO_MIN})")
    if not used_any:
        return None, notes, rhos
    return (FittedModels(ModelListGP(*models), list(data), loo, time.perf_counter() - t0, notes),
            notes, rhos)


def transfer_state(campaign: Any, encoder: Any, history: Sequence[Any],
                   tasks: Sequence[RelatedTask], settings: Any) -> bool:
    """True when the data already show a related source worth using (so the Sobol
    initial design may end after `WARM_INITIAL` points): some objective's multi-task fit
    over the current task's finished experiments keeps a source with rho >= RHO_MIN."""
    import torch

    from surrogates.models import DTYPE, make_outcome_data
    from surrogates.objectives import Problem

    problem = Problem.from_campaign(campaign)
    for spec in problem.objectives:
        name = spec.name
        rows, vals, ses = [], [], []
        for o in history:
            v = o.outcomes.get(name)
            if o.failed or v is None or not math.isfinite(float(v[0])):
                continue
            try:
                rows.append(encoder.encode(o.conditions))
            except Exception:
                continue
            vals.append(float(v[0]))
            ses.append(float(v[1]))
        if len(rows) < WARM_INITIAL:
            continue
        d = make_outcome_data(torch.as_tensor(np.stack(rows), dtype=DTYPE), vals, ses)
        fitted, _, _ = fit_transfer({name: d}, tasks, encoder, settings)
        if fitted is not None:
            return True
    return False
