"""Absorbance from counts: the exact law, shot-noise errors, flags (never clipping)."""

from __future__ import annotations

import numpy as np
import pytest

from sdl.analysis.absorbance import (
    NO_LIGHT,
    OPAQUE,
    SATURATED,
    _absorbance_kernel,
    absorbance_from_counts,
    absorptance,
)
from sdl.analysis.errors import AnalysisInputError


def naive_absorbance(d, r, s):
    """Plain numpy reference: A = -log10((S - D)/(R - D)) [DOMAIN.md §5] and the
    first-order Poisson error with the shared dark term."""
    sd, rd = s - d, r - d
    a = -np.log10(sd / rd)
    var = s / sd**2 + r / rd**2 + d * (1 / sd - 1 / rd) ** 2
    return a, np.sqrt(var) / np.log(10)


def test_exact_law_noise_free():
    wl = np.linspace(400, 700, 64)
    d = np.full(64, 500.0)
    r = np.full(64, 10500.0)
    a_true = np.linspace(0.0, 1.5, 64)
    s = d + (r - d) * 10 ** (-a_true)
    spec = absorbance_from_counts(wl, d, r, s, saturation_counts=16383)
    np.testing.assert_allclose(spec.absorbance, a_true, atol=1e-12)
    assert np.all(spec.valid)


def test_kernel_matches_numpy_reference():
    rng = np.random.default_rng(3)
    d = rng.uniform(100, 800, 500)
    r = d + rng.uniform(2000, 14000, 500)
    s = d + (r - d) * 10 ** (-rng.uniform(0, 1.2, 500))
    a = np.empty(500)
    se = np.empty(500)
    fl = np.empty(500, np.uint8)
    _absorbance_kernel(d, r, s, 0.0, 0.0, a, se, fl)
    a_ref, se_ref = naive_absorbance(d, r, s)
    np.testing.assert_allclose(a, a_ref, rtol=1e-12)
    np.testing.assert_allclose(se, se_ref, rtol=1e-12)


def test_stderr_matches_monte_carlo():
    """The propagated error equals the spread of Poisson draws (10 % tolerance, 4000 draws)."""
    rng = np.random.default_rng(7)
    n = 4000
    d_true, r_true, a_true = 800.0, 9000.0, 0.7
    s_true = d_true + (r_true - d_true) * 10 ** (-a_true)
    d = rng.poisson(d_true, n).astype(float)
    r = rng.poisson(r_true, n).astype(float)
    s = rng.poisson(s_true, n).astype(float)
    spec = absorbance_from_counts(np.arange(1.0, n + 1), d, r, s)
    assert np.std(spec.absorbance) == pytest.approx(np.mean(spec.stderr), rel=0.1)
    assert np.mean(spec.absorbance) == pytest.approx(a_true, abs=3 * np.mean(spec.stderr) / np.sqrt(n) + 1e-4)


def test_saturation_flagged_not_clipped():
    wl = np.linspace(400, 700, 10)
    d = np.full(10, 500.0)
    r = np.full(10, 12000.0)
    r[3] = 16383.0  # reference at full scale (14-bit)
    s = np.full(10, 6000.0)
    s[7] = 16400.0
    spec = absorbance_from_counts(wl, d, r, s, saturation_counts=16383)
    assert spec.saturated.tolist() == [i in (3, 7) for i in range(10)]
    assert np.isnan(spec.absorbance[3]) and np.isnan(spec.absorbance[7])
    assert spec.flags[3] & SATURATED
    assert np.all(np.isfinite(spec.absorbance[[0, 1, 2, 4, 5, 6, 8, 9]]))


def test_no_light_and_opaque_flags():
    wl = np.linspace(400, 700, 3)
    d = np.full(3, 500.0)
    r = np.array([505.0, 10000.0, 10000.0])  # no lamp light at pixel 0
    s = np.array([505.0, 501.0, 5000.0])  # nothing transmitted at pixel 1
    spec = absorbance_from_counts(wl, d, r, s, saturation_counts=16383)
    assert spec.flags[0] & NO_LIGHT
    assert spec.flags[1] & OPAQUE
    assert spec.flags[2] == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dark": np.zeros(5)}, "pixels"),
        ({"sample": np.array([1.0, np.nan, 1, 1, 1, 1])}, "non-finite"),
        ({"wavelengths_nm": np.array([1.0, 3, 2, 4, 5, 6])}, "increasing"),
        ({"reference": np.ones((2, 3))}, "1-D"),
    ],
)
def test_bad_input_raises_typed_error(kwargs, match):
    args = {"wavelengths_nm": np.arange(1.0, 7), "dark": np.zeros(6),
            "reference": np.full(6, 100.0), "sample": np.full(6, 50.0)}
    args.update(kwargs)
    with pytest.raises(AnalysisInputError, match=match):
        absorbance_from_counts(**args)


def test_absorptance():
    assert absorptance(0.0) == 0.0
    assert absorptance(1.0) == pytest.approx(0.9)
    assert absorptance(2.0) == pytest.approx(0.99)
