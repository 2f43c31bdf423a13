"""`surrogates.explain`: the report's view of the fitted GPs.

Leave-one-out: the closed form (Rasmussen & Williams, "Gaussian Processes for Machine
Learning", 2006, Eqs. 5.10-5.12) must equal the GP posterior conditioned on the other
n-1 points with the same hyperparameters, computed here by direct solves in numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

from sdl.schema.load import campaign_from_dict
from surrogates.explain import fit_explainer
from surrogates.types import Observation

CAMPAIGN = {
    "campaign": {"name": "explain", "seed": 3},
    "budget": {"experiments": 20},
    "parameters": [{"name": "temperature_c", "low": 220, "high": 300},
                   {"name": "residence_time_s", "low": 10, "high": 600, "scale": "log"}],
    "objectives": [{"name": "plqy", "goal": "maximize"}],
    "strategy": {"kind": "sobol"},
}


@pytest.fixture(scope="module")
def explainer():
    campaign = campaign_from_dict(CAMPAIGN)
    rng = np.random.default_rng(0)
    hist = []
    for i in range(12):
        t, r = float(rng.uniform(220, 300)), float(np.exp(rng.uniform(np.log(10), np.log(600))))
        y = 0.5 - ((t - 260) / 40) ** 2 * 0.3 + 0.02 * np.log(r)  # depends on t mostly
        hist.append(Observation(f"e{i}", {"temperature_c": t, "residence_time_s": r},
                                {"plqy": (y + float(rng.normal(0, 0.005)), 0.005)}))
    hist.append(Observation("bad", {"temperature_c": 250.0, "residence_time_s": 20.0},
                            failed=True, failure_kind="clog"))
    return campaign, hist, fit_explainer(campaign, hist)


def test_loo_equals_conditioning_on_the_other_points(explainer):
    import torch

    _, _, ex = explainer
    m = ex.models["plqy"]
    X = m.train_inputs[0]
    y = m.train_targets.detach().numpy()
    with torch.no_grad():
        K = m.covar_module(X).to_dense().numpy()
        noise = m.likelihood.noise.reshape(-1).numpy()
        mu0 = m.mean_module(X).numpy()
    n = len(y)
    Kn = K + np.diag(np.broadcast_to(noise, (n,)))
    t = m.outcome_transform
    mean_y, std_y = float(t.means.reshape(-1)[0]), float(t.stdvs.reshape(-1)[0])
    obs, pred, sd = ex.loo()["plqy"]
    assert len(obs) == n == 12  # the failed observation is not modelled
    for i in range(n):
        keep = np.arange(n) != i
        w = np.linalg.solve(Kn[np.ix_(keep, keep)], Kn[keep, i])
        mu = mu0[i] + w @ (y[keep] - mu0[keep])
        var = Kn[i, i] - Kn[i, keep] @ w  # predictive variance incl. the point's noise
        assert pred[i] == pytest.approx(mu * std_y + mean_y, rel=1e-6, abs=1e-9)
        assert sd[i] == pytest.approx(np.sqrt(var) * std_y, rel=1e-6)
        assert obs[i] == pytest.approx(y[i] * std_y + mean_y)


def test_importance_ranks_the_parameter_that_matters(explainer):
    _, _, ex = explainer
    imp = ex.importance()["plqy"]
    assert imp["temperature_c"] == 1.0 and imp["residence_time_s"] < 1.0


def test_slice_grid_is_in_original_units_and_passes_through_predict(explainer):
    _, hist, ex = explainer
    anchor = hist[0].conditions
    x, pred = ex.slice(anchor, "residence_time_s", 5)
    assert x[0] == pytest.approx(10) and x[-1] == pytest.approx(600)
    assert x[2] == pytest.approx(np.sqrt(10 * 600))  # log scale: geometric midpoint
    m, s = pred["plqy"]
    m2, s2 = ex.predict([{**anchor, "residence_time_s": float(x[2])}])["plqy"]
    assert m[2] == pytest.approx(m2[0]) and s[2] == pytest.approx(s2[0]) and (s > 0).all()


def test_too_few_points_are_skipped_not_fitted():
    campaign = campaign_from_dict(CAMPAIGN)
    hist = [Observation("e1", {"temperature_c": 250.0, "residence_time_s": 20.0},
                        {"plqy": (0.3, 0.01)})]
    ex = fit_explainer(campaign, hist)
    assert ex.models == {} and "plqy" in ex.skipped
