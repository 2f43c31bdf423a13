"""Residence-time distributions: moments (Levenspiel), weights, segmented narrower."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from simulator.growth import snapshot_times
from simulator.rtd import (
    interdecile_width,
    laminar_cdf,
    laminar_pdf,
    rtd_quantile,
    snapshot_weights,
    tanks_pdf,
)


@pytest.mark.parametrize("tau", [10.0, 120.0, 600.0])
def test_laminar_mean_is_tau_and_normalised(tau):
    # Levenspiel ch. 15: E(t) = tau^2/(2 t^3), t >= tau/2: integral 1, mean tau.
    norm = quad(lambda t: laminar_pdf(np.array([t]), tau)[0], tau / 2, np.inf)[0]
    mean = quad(lambda t: 1.0 - laminar_cdf(np.array([t]), tau)[0], 0, np.inf, limit=200)[0]
    assert norm == pytest.approx(1.0, rel=1e-8)
    assert mean == pytest.approx(tau, rel=1e-6)
    assert laminar_pdf(np.array([0.49 * tau]), tau)[0] == 0.0


@pytest.mark.parametrize("n", [20, 50, 100])
def test_tanks_moments(n):
    # Gamma / tanks in series: mean tau, variance tau^2 / N.
    tau = 100.0
    f = lambda t: tanks_pdf(np.array([t]), tau, n)[0]  # noqa: E731
    m0 = quad(f, 0, 20 * tau, limit=200)[0]
    m1 = quad(lambda t: t * f(t), 0, 20 * tau, limit=200)[0]
    m2 = quad(lambda t: t * t * f(t), 0, 20 * tau, limit=200)[0]
    assert m0 == pytest.approx(1.0, rel=1e-8)
    assert m1 == pytest.approx(tau, rel=1e-8)
    assert m2 - m1**2 == pytest.approx(tau**2 / n, rel=1e-6)


def test_segmented_narrower_than_laminar():
    for n in (20, 50, 100):
        assert interdecile_width(100.0, "segmented", n) < 0.6 * interdecile_width(100.0, "laminar")
    # exact laminar quantiles t_q = tau / (2 sqrt(1 - q))
    assert rtd_quantile(0.75, 100.0, "laminar") == pytest.approx(100.0)


@pytest.mark.parametrize("fmt", ["laminar", "segmented"])
def test_snapshot_weights_sum_to_one_and_centre_on_tau(fmt):
    t = snapshot_times()
    w = snapshot_weights(t, 120.0, fmt)
    assert w.sum() == pytest.approx(1.0, abs=1e-12) and np.all(w >= 0)
    med = t[np.searchsorted(np.cumsum(w), 0.5)]
    assert med == pytest.approx(rtd_quantile(0.5, 120.0, fmt), rel=0.1)


def test_bad_inputs():
    with pytest.raises(ValueError, match="flow_format"):
        snapshot_weights(snapshot_times(), 10.0, "plug")
    with pytest.raises(ValueError, match="positive"):
        snapshot_weights(snapshot_times(), -1.0, "laminar")
