"""Sizing curves reproduce their published formulas; derived quantities obey their laws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.sizing import (
    FWHM_PER_SIGMA,
    chemical_yield,
    diameter_from_peak,
    load_sizing_curves,
    molar_concentration,
    size_dispersion,
    sizing_curve,
)

from .synthetic_spectra import HC


# Yu, Qu, Guo, Peng, Chem. Mater. 15, 2854 (2003), eqs. 1-6, typed in from the paper.
def yu_cdse(lam):
    return 1.6122e-9 * lam**4 - 2.6575e-6 * lam**3 + 1.6242e-3 * lam**2 - 0.4277 * lam + 41.57


def yu_cdte(lam):
    return 9.8127e-7 * lam**3 - 1.7147e-3 * lam**2 + 1.0064 * lam - 194.84


def yu_cds(lam):
    return -6.6521e-8 * lam**3 + 1.9557e-4 * lam**2 - 9.2352e-2 * lam + 13.29


@pytest.mark.parametrize(
    "material, formula, lams, eps",
    [
        ("CdSe", yu_cdse, [460, 500, 550, 580, 600, 620, 650], lambda d: 5857 * d**2.65),
        ("CdTe", yu_cdte, [520, 560, 600, 650, 700], lambda d: 10043 * d**2.12),
        ("CdS", yu_cds, [320, 360, 400, 440, 470], lambda d: 21536 * d**2.3),
    ],
)
def test_yu_2003_formulas(material, formula, lams, eps):
    curve = sizing_curve(material)
    for lam in lams:
        d = float(curve.diameter_nm(lam))
        assert d == pytest.approx(formula(lam), rel=1e-12)
        assert curve.eps_1s(d) == pytest.approx(eps(d), rel=1e-12)
        assert float(curve.peak_nm(d)) == pytest.approx(lam, abs=0.01)  # inverse


def test_cdse_reference_points():
    # Values widely tabulated from Yu 2003 eq. 1: 1S at 550 nm -> 3.04 nm, 600 nm -> 4.58 nm,
    # 640 nm -> 6.95 nm; eps(4 nm) = 5857 * 4^2.65 = 2.31e5 M^-1 cm^-1.
    c = sizing_curve("CdSe")
    assert float(c.diameter_nm(550)) == pytest.approx(3.04, abs=0.01)
    assert float(c.diameter_nm(600)) == pytest.approx(4.58, abs=0.01)
    assert float(c.diameter_nm(640)) == pytest.approx(6.95, abs=0.01)
    assert c.eps_1s(4.0) == pytest.approx(2.31e5, rel=0.01)


@pytest.mark.parametrize("d", [2.5, 3.0, 4.0, 5.0, 6.5, 8.0])
def test_moreels_2009_pbs(d):
    # Moreels et al., ACS Nano 3, 3023 (2009): E0 = 0.41 + 1/(0.0252 d^2 + 0.283 d) eV
    e0 = 0.41 + 1 / (0.0252 * d**2 + 0.283 * d)
    c = sizing_curve("PbS")
    assert float(c.energy_ev(d)) == pytest.approx(e0, rel=1e-12)
    assert float(c.diameter_nm(HC / e0)) == pytest.approx(d, rel=1e-3)


def test_moreels_bulk_limit_and_no_extinction():
    c = sizing_curve("PbS")
    assert float(c.energy_ev(1e4)) == pytest.approx(0.41, abs=1e-3)
    r = molar_concentration(c, Estimate(0.1, 0.001), Estimate(4.0, 0.1), 1.0)
    assert isinstance(r, NoOutcome) and r.reason == "no_extinction_data"


def test_znse_curve():
    c = sizing_curve("Mn:ZnSe")
    assert c is sizing_curve("ZnSe")
    # Moreels-form fit to Hines & Guyot-Sionnest 1998: ~360-420 nm for 3-6 nm
    assert 355 < float(c.peak_nm(3.0)) < 380
    assert 410 < float(c.peak_nm(6.0)) < 430
    # large dots approach the bulk gap 2.70 eV (DOMAIN.md §4) within 0.03 eV
    assert float(c.energy_ev(500.0)) == pytest.approx(2.70, abs=0.03)


def test_brus_relation_by_hand():
    # Brus (1984), Coulomb term 1/R (DOMAIN.md §4): CdSe bulk parameters, D = 4 nm.
    from sdl.analysis.sizing import SizingCurve

    c = SizingCurve("CdSe-Brus", "brus", {"eg_ev": 1.74, "me": 0.13, "mh": 0.45, "eps_r": 9.5},
                    (400.0, 700.0), "test", None, None, "sphere", "Cd", 18.0, 55.0)
    r = 2.0
    e = 1.74 + 0.376030 / r**2 * (1 / 0.13 + 1 / 0.45) - 1.786 * 1.439964 / (9.5 * r)
    assert float(c.energy_ev(4.0)) == pytest.approx(e, rel=1e-9)
    # DOMAIN.md §4: Brus gives ~2.54 eV for 4 nm CdSe (vs 2.10 eV measured)
    assert e == pytest.approx(2.54, abs=0.03)
    assert float(c.diameter_nm(HC / e)) == pytest.approx(4.0, rel=1e-3)


def test_cspbbr3_curve_matches_reported_size_colour():
    c = sizing_curve("CsPbBr3")
    # Protesescu 2015: ~4 nm emits 460-470 nm; 10-12.5 nm emit 2.39-2.47 eV (Brennan 2017)
    # with 40-100 meV Stokes shift: the 1S absorption must lie 2.43-2.57 eV.
    assert 440 < float(c.peak_nm(4.0)) < 465
    for d in (10.0, 12.5):
        assert 2.43 <= float(c.energy_ev(d)) <= 2.57
    # equivalent-sphere sizes, as the simulator's population balance (see the TOML)
    assert c.volume_nm3(10.0) == pytest.approx(math.pi * 1000.0 / 6)


def test_every_curve_has_sources_and_is_monotonic():
    for name, c in load_sizing_curves().items():
        assert c.source and c.metal and c.metal_atoms_per_nm3 > 0, name
        lam = np.linspace(*c.valid_nm, 50)
        d = c.diameter_nm(lam)
        assert np.all(np.diff(d) > 0), name


def test_diameter_out_of_range_and_error_propagation():
    c = sizing_curve("CdSe")
    r = diameter_from_peak(c, Estimate(700.0, 0.5))
    assert isinstance(r, NoOutcome) and r.reason == "out_of_range"
    d = diameter_from_peak(c, Estimate(600.0, 0.5))
    slope = (yu_cdse(600.001) - yu_cdse(599.999)) / 0.002
    assert d.stderr == pytest.approx(abs(slope) * 0.5, rel=1e-4)
    assert isinstance(sizing_curve("Unobtainium"), NoOutcome)


def test_size_dispersion_inverts_the_quadrature_law():
    # DOMAIN.md §5: FWHM_ens^2 = FWHM_hom^2 + (2.355 |dE/dD| sigma_D)^2
    c = sizing_curve("CdSe")
    lam = 600.0
    d = float(c.diameter_nm(lam))
    de_dd = abs(HC / (c.peak_nm(d + 1e-4)) - HC / (c.peak_nm(d - 1e-4))) / 2e-4
    for spread in (0.03, 0.07, 0.12):
        # CdSe single-dot 1S line: 70 meV FWHM (sizing_curves.toml)
        fwhm = math.sqrt(0.070**2 + (FWHM_PER_SIGMA * de_dd * spread * d) ** 2)
        r = size_dispersion(c, Estimate(lam, 0.1), Estimate(fwhm / 2, 1e-4), Estimate(d, 0.01))
        assert r.value == pytest.approx(spread, rel=1e-3)
        assert r.stderr > 0
    narrow = size_dispersion(c, Estimate(lam, 0.1), Estimate(0.02, 1e-3), Estimate(d, 0.01))
    assert isinstance(narrow, NoOutcome) and narrow.reason == "narrower_than_homogeneous"
    edge = size_dispersion(c, Estimate(lam, 0.1), Estimate(0.0345, 1e-3), Estimate(d, 0.01))
    assert edge.value == 0.0 and edge.stderr > 0


def test_concentration_and_yield_beer_lambert():
    c = sizing_curve("CdSe")
    d = Estimate(4.0, 0.0)
    a = Estimate(0.2, 0.002)
    conc = molar_concentration(c, a, d, 0.5)
    eps = 5857 * 4.0**2.65  # Yu 2003
    assert conc.value == pytest.approx(0.2 / (eps * 0.5), rel=1e-12)
    assert conc.stderr == pytest.approx(conc.value * 0.01, rel=1e-9)
    # CdSe: rho N_A / M = 5.82 g/cm3 * 6.022e23 / 191.37 g/mol = 18.31 Cd per nm^3
    n_cd = 5.82 * 6.02214076e23 / 191.37 * 1e-21 * math.pi * 4.0**3 / 6
    y = chemical_yield(c, a, d, 0.5, dilution=20.0, feed_metal_molar=0.02)
    assert y.value == pytest.approx(conc.value * 20 * n_cd / 0.02, rel=2e-3)
    # line-width correction: a 1S band twice as wide as the 70 meV line has half the peak
    # absorbance for the same number of dots (Gaussian area conservation)
    wide = molar_concentration(c, a, d, 0.5, fwhm_1s_ev=Estimate(0.140, 0.0))
    assert wide.value == pytest.approx(2 * conc.value, rel=1e-12)
    narrow = molar_concentration(c, a, d, 0.5, fwhm_1s_ev=Estimate(0.050, 0.0))
    assert narrow.value == pytest.approx(conc.value, rel=1e-12)
    # the diameter error enters once, with exponent 3 - 2.65
    y2 = chemical_yield(c, Estimate(0.2, 0.0), Estimate(4.0, 0.04), 0.5, 20.0, 0.02)
    assert y2.stderr == pytest.approx(y2.value * 0.35 * 0.01, rel=1e-6)
