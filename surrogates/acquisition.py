"""Acquisition functions and their optimisation over the encoded unit cube.

* One objective: qLogNoisyExpectedImprovement (Ament et al., NeurIPS 2023) on the
  objective's utility, with outcome constraints.
* Several objectives: qLogNoisyExpectedHypervolumeImprovement on the utilities, with
  outcome constraints (its exact box decompositions by `hv_partition`'s numba kernels,
  the same cells as BoTorch's). Reference point: BoTorch's `infer_reference_point` on the Pareto
  front of the observed feasible utilities (nadir minus 10 % of the front's range per
  objective; with a single front point, nadir minus 10 % of |nadir| (or 1 if ~0)).
* Both are log-acquisitions, so weights multiply them by adding logs:
  - feasibility: + sum over the q points of log P(success) (`feasibility.py`);
  - proximal penalty: + sum over the q points of -0.5 * sum_j ((x_j - x_last_j) / l_j)^2
    over the slow knobs j, l_j their length scale as a fraction of the (encoded) range.
    This is BoTorch's `ProximalAcquisitionFunction` Gaussian weight, applied in log space.

Optimisation: `optimize_acqf` (multi-start L-BFGS-B; SLSQP when linear input constraints
are present), initial conditions from seeded Sobol raw samples and a seeded torch
generator, so results are repeatable on one machine; with categorical parameters,
`optimize_acqf_mixed` over every one-hot combination (up to a limit).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.multi_objective import logei as _mo_logei
from botorch.acquisition.multi_objective.objective import GenericMCMultiOutputObjective
from botorch.acquisition.objective import GenericMCObjective
from botorch.models.model import Model
from botorch.optim import optimize_acqf, optimize_acqf_mixed
from botorch.sampling import SobolQMCNormalSampler
from botorch.utils.multi_objective.hypervolume import infer_reference_point
from botorch.utils.multi_objective.pareto import is_non_dominated
from botorch.utils.sampling import manual_seed

from surrogates.encoding import Encoder
from surrogates.feasibility import FeasibilityModel
from surrogates.hv_partition import QLogNEHVI
from surrogates.models import DTYPE
from surrogates.objectives import Problem
from surrogates.settings import Settings

# BoTorch >= 0.17 JIT-compiles a fused C++ qLogEHVI kernel (torch.utils.cpp_extension,
# -march=native) the first time the acquisition is built. We keep the pure-PyTorch path:
# (1) a process killed mid-compile (kill -9, power loss) leaves torch's FileBaton `lock`
# file behind and every later campaign waits on it forever (seen in CI: the kill -9 resume
# test and the README example hung until their timeouts); (2) replay must give the same
# bits on every machine, which a machine-tuned kernel compiled on some hosts and not on
# others cannot promise; (3) no compiler warnings or build minutes inside a campaign.
_mo_logei._C = None
_mo_logei._load_attempted = True

LogWeight = Callable[[torch.Tensor], torch.Tensor]


class LogWeighted(AcquisitionFunction):
    """A log-acquisition plus per-point log weights: alpha(X) + sum_q sum_w w(X_q).

    Args:
        base: a log-acquisition function (qLogNEI, qLogNEHVI).
        weights: callables mapping X (b, q, D) to log weights (b, q).
    """

    def __init__(self, base: AcquisitionFunction, weights: Sequence[LogWeight]):
        super().__init__(model=base.model)
        self.base = base
        self._weights = list(weights)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        val = self.base(X)
        for w in self._weights:
            val = val + w(X).sum(-1)
        return val

    @property
    def X_pending(self) -> torch.Tensor | None:  # noqa: N802 (BoTorch's name)
        return self.base.X_pending

    @X_pending.setter
    def X_pending(self, value: torch.Tensor | None) -> None:  # noqa: N802
        if "base" in self._modules:
            self.base.X_pending = value

    def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:  # noqa: N802
        self.base.set_X_pending(X_pending)


def feasibility_weight(clf: FeasibilityModel) -> LogWeight:
    """log P(success) per point: X (b, q, D) -> (b, q)."""
    return clf.log_prob


def proximal_weight(x_last: torch.Tensor, columns: Sequence[int], lengths: Sequence[float]) -> LogWeight:
    """Gaussian proximal log weight around the last experiment.

    Args:
        x_last: (D,) encoded last experiment.
        columns: encoded columns of the slow knobs.
        lengths: their length scales as fractions of the range (encoded units).
    """
    cols = torch.as_tensor(list(columns), dtype=torch.long)
    ell = torch.as_tensor(list(lengths), dtype=DTYPE)
    ref = x_last[cols]

    def w(X: torch.Tensor) -> torch.Tensor:
        return -0.5 * (((X[..., cols] - ref) / ell) ** 2).sum(-1)

    return w


def reference_point(utilities: torch.Tensor) -> torch.Tensor:
    """Hypervolume reference point from observed feasible utilities (n, M) (see module doc)."""
    front = utilities[is_non_dominated(utilities)]
    return infer_reference_point(front, scale=0.1)


def build_acquisition(
    model: Model,
    problem: Problem,
    X_baseline: torch.Tensor,
    X_pending: torch.Tensor | None,
    seed: int,
    settings: Settings,
    ref_point: torch.Tensor | None = None,
    weights: Sequence[LogWeight] = (),
) -> tuple[AcquisitionFunction, str]:
    """qLogNEI (one objective) or qLogNEHVI (several), with weights.

    Args:
        model: ModelListGP over `problem.modelled`.
        problem: objectives and outcome constraints.
        X_baseline: (n, D) encoded points already run (noisy incumbents).
        X_pending: (p, D) encoded points proposed but not yet measured, or None.
        seed: seed of the quasi-MC sampler.
        settings: `mc_samples`.
        ref_point: (M,) hypervolume reference point (multi-objective only).
        weights: log weights (feasibility, proximal).

    Returns:
        The acquisition function and its name.
    """
    mc = settings.hv_mc_samples if problem.multi else settings.mc_samples
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([mc]), seed=seed)
    constraints = problem.constraint_callables() or None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if problem.multi:
            objective = GenericMCMultiOutputObjective(lambda Y, X=None: problem.utilities(Y))
            acq = QLogNEHVI(
                model=model, ref_point=ref_point, X_baseline=X_baseline, sampler=sampler,
                objective=objective, constraints=constraints, X_pending=X_pending,
                prune_baseline=True, alpha=settings.hv_alpha,
            )
            name = "qLogNEHVI"
        else:
            objective = GenericMCObjective(lambda Y, X=None: problem.utilities(Y)[..., 0])
            acq = qLogNoisyExpectedImprovement(
                model=model, X_baseline=X_baseline, sampler=sampler, objective=objective,
                constraints=constraints, X_pending=X_pending, prune_baseline=True,
            )
            name = "qLogNEI"
    if weights:
        acq = LogWeighted(acq, weights)
    return acq, name


def optimize(
    acq: AcquisitionFunction, encoder: Encoder, q: int, seed: int, settings: Settings,
    multi: bool = False,
) -> tuple[torch.Tensor, float]:
    """Maximise the acquisition over the encoded cube subject to linear input constraints.

    Args:
        acq: acquisition function.
        encoder: gives the dimension, linear constraints and categorical combinations.
        q: batch size.
        seed: seeds the raw samples and restart selection.
        settings: restarts, raw samples, iterations.
        multi: the acquisition is qLogNEHVI (uses `settings.hv_raw_samples`).

    Returns:
        (q, D) candidates and the acquisition value of the batch.
    """
    D = encoder.dim
    bounds = torch.stack([torch.zeros(D, dtype=DTYPE), torch.ones(D, dtype=DTYPE)])
    ineq = [
        (torch.as_tensor(i, dtype=torch.long), torch.as_tensor(c, dtype=DTYPE), float(r))
        for i, c, r in encoder.linear_constraints_encoded()
    ] or None
    options = {"seed": seed, "maxiter": settings.maxiter, "batch_limit": 64, "ftol": settings.ftol}
    if ineq is None:
        options["factr"] = None  # L-BFGS-B: stop on ftol (SLSQP takes ftol alone)
    raw = settings.hv_raw_samples if multi else settings.raw_samples
    restarts = settings.hv_num_restarts if multi else settings.num_restarts
    combos = encoder.categorical_combinations(settings.max_categorical_combinations)
    with manual_seed(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if combos:
            X, val = optimize_acqf_mixed(
                acq, bounds=bounds, q=q, num_restarts=restarts,
                raw_samples=raw, fixed_features_list=combos,
                options=options, inequality_constraints=ineq,
            )
        else:
            X, val = optimize_acqf(
                acq, bounds=bounds, q=q, num_restarts=restarts,
                raw_samples=raw, options=options,
                inequality_constraints=ineq,
            )
    X = X.detach().reshape(q, D)
    with torch.no_grad():
        value = float(acq(X.unsqueeze(0)).reshape(-1)[0])
    return X, value
