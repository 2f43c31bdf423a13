"""Relative PLQY: the textbook formula, absorptance, counting errors, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.plqy import absorptance_estimate, integrated_counts, relative_plqy


def test_relative_plqy_formula():
    # Phi = Phi_ref (F/F_ref)(f_ref/f)(n^2/n_ref^2), f = 1 - 10^-A [DOMAIN.md §5]
    f, f_ref = 1 - 10**-0.3, 1 - 10**-0.1
    expected = 0.95 * (5e5 / 2e5) * (f_ref / f) * (1.49**2 / 1.33**2)
    r = relative_plqy(Estimate(5e5, 0.0), Estimate(2e5, 0.0), Estimate(0.3, 0.0),
                      Estimate(0.1, 0.0), 0.95, 1.49, 1.33)
    assert r.value == pytest.approx(expected, rel=1e-12)
    assert r.stderr == 0.0


def test_relative_plqy_error_propagation():
    r = relative_plqy(Estimate(1e4, 100.0), Estimate(2e4, 0.0), Estimate(0.2, 0.0),
                      Estimate(0.2, 0.0), 0.5, 1.0, 1.0)
    assert r.value == pytest.approx(0.25)
    assert r.stderr == pytest.approx(0.25 * 0.01)
    # absorbance error: df/dA = ln10 10^-A
    a = absorptance_estimate(Estimate(0.5, 0.01))
    assert a.value == pytest.approx(1 - 10**-0.5)
    assert a.stderr == pytest.approx(math.log(10) * 10**-0.5 * 0.01)


def test_relative_plqy_refusals():
    ok = dict(reference_counts=Estimate(1e4, 100.0), reference_absorbance=Estimate(0.1, 0.0),
              reference_plqy=0.9, solvent_index=1.4, reference_solvent_index=1.33)
    r = relative_plqy(Estimate(1e4, 100.0), sample_absorbance=Estimate(0.001, 0.01), **ok)
    assert isinstance(r, NoOutcome) and r.reason == "no_absorbance_at_excitation"
    bad = dict(ok, reference_counts=Estimate(10.0, 100.0))
    r = relative_plqy(Estimate(1e4, 100.0), sample_absorbance=Estimate(0.2, 0.001), **bad)
    assert isinstance(r, NoOutcome) and r.reason == "no_reference_signal"


def test_integrated_counts_poisson():
    wl = np.linspace(400, 700, 301)
    s = np.full(301, 150.0)
    d = np.full(301, 100.0)
    r = integrated_counts(wl, s, d, low_nm=500.0)
    assert r.value == pytest.approx(50.0 * 201)
    assert r.stderr == pytest.approx(math.sqrt(250.0 * 201))
