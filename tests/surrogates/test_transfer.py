"""Multi-task transfer: the model learns how related two tasks are."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from surrogates.encoding import Encoder
from surrogates.models import make_outcome_data
from surrogates.settings import DEFAULT
from surrogates.transfer import RHO_MIN, RelatedTask, fit_multitask, fit_transfer
from surrogates.types import Observation
from tests.surrogates._campaigns import make_campaign


def _f(X):
    return torch.sin(6 * X[:, :1]) + torch.cos(4 * X[:, 1:2])


def _g(X):  # unrelated: different frequencies and phases
    return torch.cos(9 * X[:, 1:2] + 1.3) * torch.sin(7 * X[:, :1] + 0.4)


def _data(seed=1):
    g = torch.Generator().manual_seed(seed)
    X0 = torch.rand(8, 2, generator=g, dtype=torch.float64)
    X1 = torch.rand(30, 2, generator=g, dtype=torch.float64)
    return g, X0, X1


def test_high_correlation_on_related_tasks():
    # task 1 is an affine copy of task 0 (2 f + 1): correlation 1 after standardising
    g, X0, X1 = _data()
    y0 = _f(X0) + 0.01 * torch.randn(8, 1, generator=g, dtype=torch.float64)
    _, rho = fit_multitask([X0, X1], [y0, 2 * _f(X1) + 1])
    assert rho[0] == 1.0
    assert rho[1] > 0.9


def test_low_correlation_on_unrelated_tasks():
    g, X0, X1 = _data()
    y0 = _f(X0) + 0.01 * torch.randn(8, 1, generator=g, dtype=torch.float64)
    _, rho = fit_multitask([X0, X1], [y0, _g(X1)])
    assert rho[1] < RHO_MIN


def _obs(X, fn, name="plqy"):
    camp = make_campaign()
    enc = Encoder.from_campaign(camp)
    conds = enc.decode(X.numpy())
    y = fn(torch.as_tensor(enc.encode_many(conds), dtype=torch.float64)).squeeze(-1)
    return camp, enc, [Observation(f"r{i}", c, {name: (float(v), 0.01)}) for i, (c, v) in
                       enumerate(zip(conds, y.tolist(), strict=True))]


def test_fit_transfer_uses_related_and_falls_back_to_a_cold_start_when_unrelated():
    g, X0, X1 = _data(2)
    camp, enc, rel_obs = _obs(X1, lambda X: 0.5 * _f(X))
    _, _, unrel_obs = _obs(X1, _g)
    y0 = (0.5 * _f(X0)).squeeze(-1).tolist()
    data = {"plqy": make_outcome_data(X0, y0, [0.01] * len(y0))}
    fitted, notes, rhos = fit_transfer(data, [RelatedTask("same", "a", "0", tuple(rel_obs))],
                                       enc, DEFAULT)
    assert fitted is not None and rhos["plqy"][0] > RHO_MIN
    # the multi-task model predicts the current task where only the related task has data
    Xq = torch.rand(20, 2, generator=g, dtype=torch.float64)
    with torch.no_grad():
        mean = fitted.model.posterior(Xq).mean.squeeze(-1)
    err = float(torch.sqrt(torch.mean((mean - 0.5 * _f(Xq).squeeze(-1)) ** 2)))
    assert err < 0.15
    cold, notes, rhos = fit_transfer(data, [RelatedTask("other", "b", "0", tuple(unrel_obs))],
                                     enc, DEFAULT)
    assert cold is None  # the caller keeps its single-task models: a cold start
    assert rhos["plqy"][0] < RHO_MIN and any("not used" in n for n in notes)
    assert all(math.isfinite(r) for r in rhos["plqy"]) and np.isfinite(err)


def test_multitask_fit_is_a_function_of_the_data_alone():
    # replay purity: the task kernel's random start must not depend on torch's global RNG
    _, X0, X1 = _data()
    torch.manual_seed(1)
    _, a = fit_multitask([X0, X1], [_f(X0), _g(X1)])
    torch.manual_seed(2)
    _, b = fit_multitask([X0, X1], [_f(X0), _g(X1)])
    assert np.array_equal(a, b)


def test_permuted_related_data_pass_the_correlation_but_not_the_leave_one_out_test():
    # The permutation null: a related campaign's outcomes shuffled across its experiments
    # (and offset, as another material's would be). The fitted task correlation alone is
    # ~1 here (the precise noise-free related points force a rough shared function the
    # few current points cannot refute), so rho >= RHO_MIN is no test of relatedness; the
    # leave-one-out log density of the current points with vs without them is.
    from dataclasses import replace

    from surrogates.transfer import loo_log_density

    for seed in (2, 3):
        g, X0, X1 = _data(seed)
        X0 = X0[:5]
        camp, enc, rel = _obs(X1, lambda X: 0.5 * _f(X) - 3.0)
        perm = np.random.default_rng(seed).permutation(len(rel))
        shuffled = [replace(o, outcomes=rel[j].outcomes) for o, j in zip(rel, perm, strict=True)]
        y0 = (0.5 * _f(X0)).squeeze(-1).tolist()
        data = {"plqy": make_outcome_data(X0, y0, [0.01] * len(y0))}
        null, notes, rhos = fit_transfer(
            data, [RelatedTask("shuffled", "p", "0", tuple(shuffled))], enc, DEFAULT)
        assert rhos["plqy"][0] >= RHO_MIN  # the correlation alone would have used them
        assert null is None
        assert any("leave-one-out log density" in n for n in notes), notes
        same, _, _ = fit_transfer(data, [RelatedTask("same", "a", "0", tuple(rel))], enc, DEFAULT)
        assert same is not None  # the unshuffled data still help
        # the closed form equals refitting-free leave-one-out by explicit conditioning
        model = same.model.models[0]
        X, y = model.train_inputs[0], model.train_targets
        with torch.no_grad():
            prior = model.forward(X)
            K = prior.covariance_matrix + torch.diag(model.likelihood.noise.reshape(-1))
            total = 0.0
            for i in range(5):
                keep = [j for j in range(len(y)) if j != i]
                k = K[i, keep]
                sol = torch.linalg.solve(K[keep][:, keep], torch.stack([y[keep] - prior.mean[keep], k], -1))
                mu = prior.mean[i] + k @ sol[:, 0]
                var = K[i, i] - k @ sol[:, 1]
                sd = float(model.outcome_transform.stdvs.reshape(-1)[0])
                total += float(-0.5 * torch.log(2 * math.pi * var) - 0.5 * (y[i] - mu) ** 2 / var) - math.log(sd)
        assert loo_log_density(model, 5) == pytest.approx(total, rel=1e-6, abs=1e-6)
