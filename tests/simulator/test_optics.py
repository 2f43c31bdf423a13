"""Optics: sizing curves vs Yu 2003 / Protesescu 2015, line-width law, PLQY and g2 structure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator import optics as op
from simulator.materials import load_material

CDSE = load_material("CdSe").optics
PERO = load_material("CsPbBr3").optics
ZNS = load_material("CdSe").shells["ZnS"]


@pytest.mark.parametrize("lam", [470.0, 500.0, 530.0, 560.0, 590.0, 620.0, 650.0])
def test_cdse_1s_matches_yu2003_within_1nm(lam):
    # Yu, Qu, Guo, Peng, Chem. Mater. 15, 2854 (2003): D(lambda) polynomial, 2-8 nm.
    d = 1.6122e-9 * lam**4 - 2.6575e-6 * lam**3 + 1.6242e-3 * lam**2 - 0.4277 * lam + 41.57
    assert op.HC_EV_NM / float(op.e1s_ev(CDSE, d)) == pytest.approx(lam, abs=1.0)


def test_cdse_published_anchor_points():
    # Yu 2003 Table/Fig. 2 region: 3.0 nm ~ 550 nm, 4.6 nm ~ 600 nm, 7.8 nm ~ 650 nm (1S).
    for d, lam in ((3.04, 550.0), (4.58, 600.0), (7.76, 650.0)):
        assert op.HC_EV_NM / float(op.e1s_ev(CDSE, d)) == pytest.approx(lam, abs=1.0)
    d = np.linspace(1.0, 14.0, 200)
    e = op.e1s_ev(CDSE, d)
    assert np.all(np.diff(e) < 0) and e[-1] > CDSE["bulk_gap_ev"]


def test_eps_1s_yu2003():
    # eps_1S = 5857 D^2.65 M^-1 cm^-1 (Yu 2003); the model's 1S line peaks at that value
    # (higher transitions and the continuum add < 5 % at the 1S peak).
    for d in (2.5, 4.0, 6.0):
        assert float(op.eps_1s(CDSE, d)) == pytest.approx(5857 * d**2.65, rel=1e-12)
        e1 = op.e1s_ev(CDSE, np.array([d]))
        at_peak = op.absorbance_per_molar(e1, e1, np.array([d]), CDSE)[0, 0]
        assert 1.0 <= at_peak / (5857 * d**2.65) < 1.05


@pytest.mark.parametrize("d", [10.0, 11.0, 12.5])
def test_cspbbr3_emission_and_stokes(d):
    # Protesescu et al., Nano Lett. 15, 3692 (2015); Brennan et al., JACS 139, 12201 (2017):
    # 10-12.5 nm CsPbBr3 emit at 2.39-2.47 eV with a Stokes shift of 40-100 meV.
    stokes = float(op.stokes_ev(PERO, d))
    pl = float(op.e1s_ev(PERO, d)) - stokes
    assert 2.39 <= pl <= 2.47
    assert 0.040 <= stokes <= 0.100


def test_cdse_stokes_in_published_range():
    # CdSe Stokes shift 10-30 meV, larger for small dots (DOMAIN s5; Norris & Bawendi 1996).
    s = op.stokes_ev(CDSE, np.array([3.0, 4.6, 7.0]))
    assert np.all((s >= 0.010) & (s <= 0.035)) and s[0] > s[1] > s[2]


def test_ensemble_fwhm_equals_quadrature_sum():
    # FWHM_ens^2 = FWHM_hom^2 + (2.355 |dE/dD| sigma_D)^2 (DOMAIN s5) for a narrow Gaussian
    # size distribution emitting Gaussian lines.
    d0, sig = 4.6, 0.05 * 4.6
    d = np.linspace(d0 - 5 * sig, d0 + 5 * sig, 801)
    w = np.exp(-0.5 * ((d - d0) / sig) ** 2)
    e_pl = op.e1s_ev(CDSE, d) - op.stokes_ev(CDSE, d)
    hom = 1e-3 * CDSE["homogeneous_fwhm_mev"]
    eg = np.linspace(1.7, 2.4, 20001)
    spec = (w[:, None] * op.gaussian(eg[None, :], e_pl[:, None], hom)).sum(0)
    above = eg[spec >= 0.5 * spec.max()]
    fwhm = above[-1] - above[0]
    slope = abs(np.gradient(e_pl, d)[400])
    expect = math.sqrt(hom**2 + (op.FWHM_PER_SIGMA * slope * sig) ** 2)
    assert fwhm == pytest.approx(expect, rel=0.01)
    # DOMAIN check: CdSe 4.6 nm with 5 % spread gives ~70 meV
    assert 0.060 < expect < 0.085


def test_peak_to_valley_falls_with_spread():
    # A broader size distribution washes out the 1S peak (Yu 2003 use HWHM as spread).
    e = op.HC_EV_NM / np.linspace(420.0, 700.0, 1400)
    ratios = []
    for rel in (0.03, 0.06, 0.10, 0.15):
        d = np.linspace(1.5, 8.0, 400)
        w = np.exp(-0.5 * (np.log(d / 4.0) / rel) ** 2) / d
        e1 = op.e1s_ev(CDSE, d)
        a = w @ op.absorbance_per_molar(e, e1, d, CDSE)
        i_pk = int(np.argmax(np.where(e < 2.3, a, 0)))
        j = i_pk
        while j + 1 < a.size and a[j + 1] <= a[j]:
            j += 1                                   # walk to the valley on the blue side
        ratios.append(a[i_pk] / a[j])
    assert all(x > y for x, y in zip(ratios, ratios[1:], strict=False))


def test_plqy_interior_optimum_in_shell_thickness():
    # Passivation (exp(-h/L)) vs strain ((h - h_c)^2): QY peaks at an intermediate shell
    # (Dabbousi et al., J. Phys. Chem. B 101, 9463 (1997): CdSe/ZnS best at ~1.3-2 ML).
    h = np.linspace(0.0, 3.0, 61)
    qy = np.array([op.exciton_qy(CDSE, np.array([4.6]), 4.0, 260.0, ZNS, x).qy_x[0] for x in h])
    i = int(np.argmax(qy))
    assert 0 < i < h.size - 1
    assert qy[0] < 0.12                      # bare cores 1-10 % (Kagan 2021 review)
    assert qy[i] > 0.5                        # good core/shell approaches unity


def test_g2_rises_with_volume_and_matches_reference_dot():
    # Nair, Zhao, Bawendi 2011: g2(0) ~ QY_XX/QY_X; Auger ~ 1 ps/nm^3 of volume.
    # SIMULATOR.md: ~610 nm CdSe/ZnS, 4.6 nm core + 0.7 nm shell -> g2(0) ~ 0.05-0.15.
    qx = op.exciton_qy(CDSE, np.array([4.6]), 4.0, 260.0, ZNS, 0.7).qy_x[0]
    vol = 4 / 3 * math.pi * (2.3 + 0.7) ** 3
    g2 = op.biexciton_qy(qx, CDSE["radiative_lifetime_ns"], vol) / qx
    assert 0.05 <= g2 <= 0.15
    g2s = [op.biexciton_qy(0.5, 20.0, v) / 0.5 for v in (50.0, 200.0, 1000.0, 1e4)]
    assert all(a < b for a, b in zip(g2s, g2s[1:], strict=False)) and g2s[-1] > 0.8


def test_pulsed_g2_formula_limits():
    # g2(0) = 2 eX eXX p2 / (eX p1 + eXX p2)^2 -> eXX/eX at low power; rises with power.
    assert op.g2_zero_pulsed(0.5, 0.05, 1e-3) == pytest.approx(0.1, rel=2e-3)
    assert op.g2_zero_pulsed(0.5, 0.5, 1e-3) == pytest.approx(1.0, rel=2e-3)
    assert op.g2_zero_pulsed(0.5, 0.05, 1.0) > op.g2_zero_pulsed(0.5, 0.05, 0.1)


def test_spectral_photons_conserves_photon_number():
    wl = np.linspace(350.0, 800.0, 4000)
    e = op.HC_EV_NM / wl
    ph = op.spectral_photons(e, wl, [2.0, 2.3], [0.06, 0.08], [3.0, 1.0])
    assert ph.sum() == pytest.approx(4.0, rel=1e-3)


def test_absorbance_kernel_matches_numpy_reference():
    rng = np.random.default_rng(4)
    d = np.sort(rng.uniform(2.0, 7.0, 50))
    conc = rng.uniform(0, 1e-6, 50)
    e = op.HC_EV_NM / np.linspace(340.0, 811.0, 1024)
    e1 = op.e1s_ev(CDSE, d)
    ref = conc @ op.absorbance_per_molar(e, e1, d, CDSE)
    np.testing.assert_allclose(op.ensemble_absorbance(e, e1, d, conc, CDSE), ref, rtol=1e-6,
                               atol=1e-9 * ref.max())


def test_band_kernel_matches_numpy_reference():
    wl = np.linspace(350.0, 800.0, 1024)
    e = op.HC_EV_NM / wl
    c, fw, w = np.array([2.0, 2.2, 2.5]), np.array([0.05, 0.1, 0.3]), np.array([1.0, 0.0, 2.0])
    ref = (w[:, None] * op.gaussian(e[None, :], c[:, None], fw[:, None])).sum(0)
    ref = ref * op.HC_EV_NM / wl**2 * np.gradient(wl)
    np.testing.assert_allclose(op.spectral_photons(e, wl, c, fw, w), ref, rtol=1e-9,
                               atol=1e-12 * ref.max())
