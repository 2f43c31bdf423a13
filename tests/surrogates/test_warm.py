"""Warm-started GP fits: pure functions of the data, as good as a full fit."""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from gpytorch.mlls import ExactMarginalLogLikelihood

from surrogates import warm
from surrogates.models import make_outcome_data
from surrogates.settings import FAST
from surrogates.warm import clear_cache, fit_warm

S = replace(FAST, refit_every=5)


def _data(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 3, generator=g, dtype=torch.float64)
    y = torch.sin(5 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]
    y = y + 0.05 * torch.randn(n, generator=g, dtype=torch.float64)
    d = make_outcome_data(X, y.tolist(), [0.05] * n)
    return d.X, d.Y, d.Yvar


def _params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def _mll(model):
    model.train()
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    with torch.no_grad():
        out = mll(model(*model.train_inputs), model.train_targets).sum()
    model.eval()
    return float(out)


def test_warm_fit_is_the_same_with_or_without_the_cache():
    # the live loop fits 10 (anchor), 11, 12 in turn; a resumed run / fresh replay fits 12 cold
    X, Y, V = _data(12)
    for n in (10, 11):
        fit_warm(X[:n], Y[:n], V[:n], "y", S)
    live, _, loo_live = fit_warm(X, Y, V, "y", S)
    clear_cache()
    cold, _, loo_cold = fit_warm(X, Y, V, "y", S)
    a, b = _params(live), _params(cold)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert loo_live == loo_cold


def test_anchor_steps_are_full_fits_and_cached_anchors_rebuild_identically():
    X, Y, V = _data(10)
    first, _, loo1 = fit_warm(X, Y, V, "y", S)
    again, _, loo2 = fit_warm(X, Y, V, "y", S)  # cache hit: rebuilt from hyperparameters
    assert all(torch.equal(v, _params(again)[k]) for k, v in _params(first).items())
    Xt = torch.rand(4, 3, dtype=torch.float64)
    assert torch.equal(first.posterior(Xt).mean, again.posterior(Xt).mean)
    assert loo1 == loo2 and len(warm._cache) == 1


def test_warm_start_reaches_nearly_the_full_fit_likelihood():
    X, Y, V = _data(14, seed=3)
    fit_warm(X[:10], Y[:10], V[:10], "y", S)
    warm_model, notes, _ = fit_warm(X, Y, V, "y", S)
    full_model, _, _ = fit_warm(X, Y, V, "y", replace(S, refit_every=0))
    # the marginal likelihood per point (nats) of the warm fit is within 0.02 of the full fit
    assert _mll(warm_model) >= _mll(full_model) - 0.02, (_mll(warm_model), _mll(full_model))
    assert not any("jumped" in n for n in notes)


def test_loo_jump_forces_a_full_refit():
    X, Y, V = _data(12, seed=1)
    fit_warm(X[:10], Y[:10], V[:10], "y", S)
    _, notes, loo = fit_warm(X, Y, V, "y", replace(S, loo_jump=0.0))  # any LOO "jumps"
    assert any("LOO error jumped" in n for n in notes)
    assert all(math.isfinite(v) for v in loo)
