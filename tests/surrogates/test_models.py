"""GP fitting: closed-form LOO, heteroskedastic noise, NotPSD recovery."""

from __future__ import annotations

import torch
from linear_operator.utils.errors import NotPSDError

import surrogates.models as models
from surrogates.models import fit_models, fit_one, loo_rmse, make_outcome_data
from surrogates.settings import FAST


def _xy(n=15, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g, dtype=torch.float64)
    y = torch.sin(6 * X[:, 0]) + X[:, 1] ** 2
    return X, y


def test_closed_form_loo_equals_refit_free_brute_force():
    X, y = _xy()
    model, _ = fit_one(make_outcome_data(X, y.tolist(), [0.05] * len(y)), "y", FAST)
    Xt, yt = model.train_inputs[0], model.train_targets
    with torch.no_grad():
        K = model.covar_module(Xt).to_dense() + torch.diag(model.likelihood.noise.reshape(-1))
        m = model.mean_module(Xt)
    res = []
    for i in range(len(yt)):
        keep = torch.arange(len(yt)) != i
        Kk = K[keep][:, keep]
        mu = m[i] + K[i, keep] @ torch.linalg.solve(Kk, yt[keep] - m[keep])
        res.append(float(yt[i] - mu))
    brute = torch.tensor(res).pow(2).mean().sqrt()
    assert abs(loo_rmse(model) - float(brute)) < 1e-6 * max(1.0, float(brute))


def test_stderrs_give_fixed_heteroskedastic_noise():
    X, y = _xy()
    ses = [0.01] * 7 + [0.3] * 8
    d = make_outcome_data(X, y.tolist(), ses)
    torch.testing.assert_close(d.Yvar.squeeze(-1), torch.tensor(ses, dtype=torch.float64) ** 2)
    model, _ = fit_one(d, "y", FAST)
    noise = model.likelihood.noise.reshape(-1)
    # standardised noise keeps the ratio of the variances (0.3 / 0.01)^2 = 900
    assert abs(float(noise[-1] / noise[0]) - 900.0) < 1e-6 * 900


def test_nan_stderr_falls_back_to_inferred_noise():
    X, y = _xy()
    d = make_outcome_data(X, y.tolist(), [float("nan")] + [0.1] * 14)
    assert d.Yvar is None


def test_duplicated_points_with_zero_stderr_fit():
    X, y = _xy(8)
    X = torch.cat([X, X, X])
    y = torch.cat([y, y + 1e-3, y - 1e-3])
    fitted = fit_models({"y": make_outcome_data(X, y.tolist(), [0.0] * len(y))}, FAST)
    post = fitted.model.posterior(X[:3])
    assert bool(torch.isfinite(post.mean).all())


def test_notpsd_on_fit_is_retried_and_noted(notpsd_once):
    calls = notpsd_once
    X, y = _xy()
    model, notes = fit_one(make_outcome_data(X, y.tolist(), [0.05] * len(y)), "y", FAST)
    assert calls["n"] == 2
    assert notes and "NotPSDError" in notes[0] and "jitter" in notes[0]
    assert bool(torch.isfinite(model.posterior(X[:2]).mean).all())


def test_persistent_failure_keeps_prior_hyperparameters(monkeypatch):
    def broken(mll, *a, **kw):
        raise NotPSDError("not PSD")

    monkeypatch.setattr(models, "fit_gpytorch_mll", broken)
    X, y = _xy()
    model, notes = fit_one(make_outcome_data(X, y.tolist(), [0.05] * len(y)), "y", FAST)
    assert "prior hyperparameters" in notes[-1]
    assert bool(torch.isfinite(model.posterior(X[:2]).mean).all())


def test_shared_inputs_fit_one_batched_model_with_exact_loo():
    X, y = _xy()
    y2 = torch.cos(4 * X[:, 1]) * 10
    fitted = fit_models({"a": make_outcome_data(X, y.tolist(), [0.05] * 15),
                         "b": make_outcome_data(X, y2.tolist(), [0.5] * 15)}, FAST)
    model = fitted.model
    assert model.num_outputs == 2 and fitted.outcome_names == ["a", "b"]
    # independent hyperparameters per output
    ls = model.covar_module.lengthscale.detach()
    assert ls.shape[0] == 2 and not torch.allclose(ls[0], ls[1])
    Xt, Yt = model.train_inputs[0], model.train_targets  # (2, n, d), (2, n)
    with torch.no_grad():
        K = model.covar_module(Xt).to_dense() + torch.diag_embed(model.likelihood.noise)
        m = model.mean_module(Xt)
    for j, name in enumerate(("a", "b")):
        res = []
        for i in range(15):
            keep = torch.arange(15) != i
            Kk = K[j][keep][:, keep]
            mu = m[j, i] + K[j, i, keep] @ torch.linalg.solve(Kk, Yt[j, keep] - m[j, keep])
            res.append(float(Yt[j, i] - mu))
        brute = float(torch.tensor(res).pow(2).mean().sqrt())
        assert abs(fitted.loo_rmse[name] - brute) < 1e-6 * max(1.0, brute)
    post = model.posterior(X[:4])
    assert post.mean.shape == (4, 2)


def test_different_inputs_use_a_model_list():
    X, y = _xy()
    fitted = fit_models({"a": make_outcome_data(X, y.tolist(), [0.05] * 15),
                         "b": make_outcome_data(X[:10], y[:10].tolist(), [0.05] * 10)}, FAST)
    assert type(fitted.model).__name__ == "ModelListGP"
    assert fitted.model.posterior(X[:3]).mean.shape == (3, 2)
