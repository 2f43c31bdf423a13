"""Probability that an experiment at x succeeds: a Laplace-approximated GP classifier.

Failed experiments (clogs, equipment faults, unviable chemistry, missing needed outcomes)
give label -1, successful ones +1. The latent function f ~ GP(m, k) with an isotropic RBF
kernel and a constant prior mean m = Phi^-1(observed success rate) (clipped to [0.05,
0.95]), so unexplored regions sit at the base rate. The likelihood is probit,
p(y | f) = Phi(y f). The posterior over f at the training points is approximated by
Laplace's method (Newton iterations, Rasmussen & Williams 2006, Algorithm 3.1); the
predictive success probability is the probit-Gaussian integral
p(x) = Phi(mu(x) / sqrt(1 + s^2(x))) (R&W Eq. 3.82 / Algorithm 3.2), which is exact for
the probit link given the Gaussian approximation. Kernel hyperparameters (lengthscale and
signal variance) are chosen on a small grid by the Laplace approximate evidence
(R&W Eq. 3.32). This is a real (approximate) GP classifier, not a regression on 0/1
labels; it is cheap (a few n x n Cholesky factorisations) and differentiable in x, so
`log p(x)` can be added to a log-acquisition function (multiplying the acquisition by
the probability that the whole batch succeeds, assuming independent failures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

import torch
from torch.special import log_ndtr, ndtri

from surrogates.models import DTYPE

_NEWTON_ITERS = 30
_SIGNAL_VARIANCES = (1.0, 4.0, 16.0)


def _rbf(A: torch.Tensor, B: torch.Tensor, lengthscale: float, variance: float) -> torch.Tensor:
    d2 = ((A.unsqueeze(-2) - B.unsqueeze(-3)) / lengthscale).pow(2).sum(-1)
    return variance * torch.exp(-0.5 * d2)


def _probit_terms(f: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """log p(y|f), its gradient and the negative Hessian diagonal W (R&W Eq. 3.16)."""
    z = y * f
    logphi = log_ndtr(z)
    lognpdf = -0.5 * z**2 - 0.5 * math.log(2 * math.pi)
    r = torch.exp(lognpdf - logphi)  # N(z) / Phi(z), stable for very negative z
    grad = y * r
    W = r**2 + z * r
    return logphi, grad, W


@dataclass
class FeasibilityModel:
    """Fitted classifier; call `log_prob(X)` for log P(success) at encoded points.

    Attributes:
        X: (n, D) training inputs; y: (n,) labels in {-1, +1}.
        lengthscale, variance, mean: chosen hyperparameters.
        grad: (n,) gradient of log-likelihood at the posterior mode.
        sW: (n,) sqrt of W at the mode; L: (n, n) Cholesky of I + sW K sW.
        log_evidence: Laplace approximate log marginal likelihood.
    """

    X: torch.Tensor
    y: torch.Tensor
    lengthscale: float
    variance: float
    mean: float
    grad: torch.Tensor
    sW: torch.Tensor
    L: torch.Tensor
    log_evidence: float

    def latent(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Predictive mean and variance of f at X (..., D) -> (...,), (...,)."""
        ks = _rbf(X, self.X, self.lengthscale, self.variance)  # (..., n)
        mu = self.mean + ks @ self.grad
        v = torch.linalg.solve_triangular(self.L, (self.sW * ks).unsqueeze(-1), upper=False).squeeze(-1)
        var = (self.variance - (v**2).sum(-1)).clamp_min(1e-12)
        return mu, var

    def log_prob(self, X: torch.Tensor) -> torch.Tensor:
        """log P(success) at encoded points X of shape (..., D); returns (...,)."""
        mu, var = self.latent(X)
        return log_ndtr(mu / torch.sqrt(1.0 + var))

    def prob(self, X: torch.Tensor) -> torch.Tensor:
        """P(success) at X (..., D) -> (...,)."""
        return torch.exp(self.log_prob(X))


def _laplace(X: torch.Tensor, y: torch.Tensor, ls: float, var: float, mean: float) -> FeasibilityModel:
    n = X.shape[0]
    K = _rbf(X, X, ls, var) + 1e-9 * torch.eye(n, dtype=DTYPE)
    f = torch.full((n,), mean, dtype=DTYPE)
    eye = torch.eye(n, dtype=DTYPE)
    prev = -math.inf
    a = torch.zeros(n, dtype=DTYPE)
    for _ in range(_NEWTON_ITERS):
        logphi, grad, W = _probit_terms(f, y)
        sW = torch.sqrt(W)
        L = torch.linalg.cholesky(eye + sW[:, None] * K * sW[None, :])
        b = W * (f - mean) + grad
        c = torch.cholesky_solve((sW * (K @ b)).unsqueeze(-1), L).squeeze(-1)
        a = b - sW * c
        f = K @ a + mean
        obj = float(-0.5 * a @ (f - mean) + log_ndtr(y * f).sum())
        if abs(obj - prev) < 1e-9 * max(1.0, abs(obj)):
            break
        prev = obj
    logphi, grad, W = _probit_terms(f, y)
    sW = torch.sqrt(W)
    L = torch.linalg.cholesky(eye + sW[:, None] * K * sW[None, :])
    log_z = float(-0.5 * a @ (f - mean) + logphi.sum() - torch.log(torch.diagonal(L)).sum())
    return FeasibilityModel(X, y, ls, var, mean, grad, sW, L, log_z)


def fit_feasibility(X: torch.Tensor, success: torch.Tensor, grid: tuple[float, ...]) -> FeasibilityModel:
    """Fit the classifier.

    Args:
        X: (n, D) encoded inputs of every finished experiment.
        success: (n,) bool, False for failed experiments.
        grid: lengthscales to try, in unit-cube units times sqrt(D).

    Returns:
        The model with the highest Laplace evidence on the grid.
    """
    X = X.to(DTYPE)
    y = torch.where(success, 1.0, -1.0).to(DTYPE)
    rate = float(success.to(DTYPE).mean().clamp(0.05, 0.95))
    mean = float(ndtri(torch.tensor(rate, dtype=DTYPE)))
    scale = math.sqrt(X.shape[-1])
    best: FeasibilityModel | None = None
    for ls, var in product(grid, _SIGNAL_VARIANCES):
        m = _laplace(X, y, ls * scale, var, mean)
        if best is None or m.log_evidence > best.log_evidence:
            best = m
    return best
