"""Laplace GP classifier for failed experiments."""

from __future__ import annotations

import torch

from surrogates.feasibility import _probit_terms, fit_feasibility


def _data():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(40, 2, generator=g, dtype=torch.float64)
    success = X[:, 0] < 0.6  # everything right of x0 = 0.6 fails
    return X, success


def test_mode_satisfies_the_laplace_fixed_point():
    # At the mode, f - m = K grad log p(y|f)  (Rasmussen & Williams 2006, Eq. 3.17).
    X, success = _data()
    clf = fit_feasibility(X, success, (0.2,))
    from surrogates.feasibility import _rbf
    K = _rbf(X, X, clf.lengthscale, clf.variance) + 1e-9 * torch.eye(40, dtype=torch.float64)
    f, _ = clf.latent(X)  # predictive mean at training points = m + K grad
    y = torch.where(success, 1.0, -1.0).to(torch.float64)
    _, grad, _ = _probit_terms(f, y)
    torch.testing.assert_close(f - clf.mean, K @ grad, atol=1e-5, rtol=1e-5)


def test_failed_region_gets_low_probability():
    X, success = _data()
    clf = fit_feasibility(X, success, (0.1, 0.2, 0.4, 0.8))
    probe = torch.tensor([[0.2, 0.5], [0.9, 0.5]], dtype=torch.float64)
    p = clf.prob(probe)
    assert float(p[0]) > 0.8 and float(p[1]) < 0.2


def test_log_prob_is_differentiable_and_batched():
    X, success = _data()
    clf = fit_feasibility(X, success, (0.2,))
    Z = torch.rand(5, 3, 2, dtype=torch.float64, requires_grad=True)
    lp = clf.log_prob(Z)
    assert lp.shape == (5, 3) and bool((lp <= 0).all())
    lp.sum().backward()
    assert Z.grad is not None and bool(torch.isfinite(Z.grad).all())
