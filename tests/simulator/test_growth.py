"""Nucleation/growth kernel: numpy reference, mass balance, Talapin regimes, LSW, trends."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from simulator.growth import (
    R_MAX_NM,
    R_MIN_NM,
    GrowthParams,
    growth_params,
    outlet_distribution,
    simulate_batch,
    snapshot_times,
)
from simulator.materials import load_material
from tests.simulator.naive_growth import naive_trajectory

CDSE = load_material("CdSe")


def _spread(tr):
    m = tr.column("mean_r_nm")
    return np.where(m > 0, tr.column("std_r_nm") / np.maximum(m, 1e-12), np.nan)


def test_kernel_matches_numpy_reference_on_small_grid():
    p = growth_params(CDSE, 270.0, 10.0, 2.0, 4.0)
    t = np.geomspace(0.05, 300.0, 25)
    nb, maxc = 40, 60
    tr = simulate_batch(p, t, n_bins=nb, max_cohorts=maxc)
    lnr_lo = math.log(R_MIN_NM)
    dlnr = math.log(R_MAX_NM / R_MIN_NM) / nb
    hist, means, mass, nuc = naive_trajectory(p, t, R_MIN_NM, lnr_lo, dlnr, nb, maxc)
    np.testing.assert_allclose(tr.number, hist, rtol=1e-6, atol=1e-12 * hist.max())
    np.testing.assert_allclose(tr.column("mean_r_nm"), means, rtol=1e-7)
    assert tr.column("nuclei_formed")[-1] == pytest.approx(nuc, rel=1e-7)


@pytest.mark.parametrize("cond", [(220.0, 5.0, 0.5, 1.0), (260.0, 20.0, 2.0, 4.0),
                                  (300.0, 50.0, 4.0, 10.0)])
def test_mass_balance_to_1e6(cond):
    # Exact law: precursor + free monomer + monomers in particles = P0 at every snapshot.
    tr = simulate_batch(growth_params(CDSE, *cond))
    assert tr.mass_balance_error().max() < 1e-6


def _after_nucleation(tr):
    nuc = tr.column("nuclei_formed")
    return tr.times_s >= tr.times_s[np.argmax(nuc >= 0.99 * nuc[-1])]


def test_focusing_then_defocusing_and_small_k_focuses_more():
    # Talapin et al. 2001: at high supersaturation and small K the relative spread narrows
    # (focusing); after monomer depletion it broadens again (defocusing / ripening); the
    # larger K (reaction control), the weaker the focusing.
    base = growth_params(CDSE, 300.0, 20.0, 2.0, 4.0)
    mins = []
    for fac in (0.1, 1.0, 30.0):
        tr = simulate_batch(dataclasses.replace(base, delta=base.delta * fac))
        sp = np.where(_after_nucleation(tr), _spread(tr), np.nan)
        i_min = int(np.nanargmin(sp))
        first = int(np.argmax(np.isfinite(sp)))
        if fac <= 1.0:
            assert sp[i_min] < 0.7 * sp[first]                    # focusing after the burst
            depleted = tr.column("precursor") < 1e-3 * base.p0
            assert np.nanmax(sp[depleted]) > 1.5 * sp[i_min]      # defocusing after depletion
        mins.append(sp[i_min])
    assert mins[0] < mins[1] < mins[2]


def test_ripening_r3_linear_in_time_and_spread_near_lsw():
    # LSW (Lifshitz-Slyozov 1961, Wagner 1961): after depletion <r>^3 - r0^3 ~ t and the
    # relative spread tends to ~0.215 (diffusion-limited); it must stay near/below it.
    p = growth_params(CDSE, 300.0, 20.0, 2.0, 4.0)
    p = dataclasses.replace(p, c_inf=p.c_inf * 5.0, k_conv=p.k_conv * 5.0, delta=0.05)
    tr = simulate_batch(p)
    t = tr.times_s
    late = (t > 3000.0) & (tr.column("precursor") < 1e-6 * p.p0)
    r3 = tr.column("mean_r3_nm3")[late]
    coef = np.polyfit(t[late], r3, 1)
    resid = r3 - np.polyval(coef, t[late])
    r2 = 1 - resid.var() / r3.var()
    assert coef[0] > 0 and r2 > 0.98
    sp = _spread(tr)[late]
    assert 0.12 < sp[-1] < 0.26


def test_faster_conversion_gives_more_nuclei_and_smaller_dots():
    # Owen & Hens (e.g. Hendricks, Campos, Cleveland, Jen-La Plante, Owen, Science 348,
    # 1226 (2015)): faster precursor conversion -> more nuclei -> smaller final size.
    sizes, nuclei = [], []
    for react in (0.5, 1.0, 2.0, 4.0):
        tr = simulate_batch(growth_params(CDSE, 260.0, 20.0, 2.0, 4.0, reactivity=react))
        nuclei.append(tr.column("nuclei_formed")[-1])
        i = np.argmax(tr.column("precursor") < 1e-3 * tr.params.p0)
        sizes.append(tr.column("mean_r_nm")[i])
    assert all(a < b for a, b in zip(nuclei, nuclei[1:], strict=False))
    assert all(a > b for a, b in zip(sizes, sizes[1:], strict=False))


def test_outlet_is_weighted_average_of_snapshots():
    tr = simulate_batch(growth_params(CDSE, 260.0, 20.0, 2.0, 4.0))
    w = np.zeros(tr.times_s.size)
    w[100] = 0.25
    w[150] = 0.75
    d = outlet_distribution(tr, w)
    np.testing.assert_allclose(d.number, 0.25 * tr.number[100] + 0.75 * tr.number[150])


def test_bad_params_rejected():
    p = growth_params(CDSE, 260.0, 20.0, 2.0, 4.0)
    with pytest.raises(ValueError, match="k_conv"):
        simulate_batch(dataclasses.replace(p, k_conv=-1.0))
    with pytest.raises(ValueError, match="times_s"):
        simulate_batch(p, np.array([2.0, 1.0]))
    assert isinstance(p, GrowthParams) and snapshot_times().size == 240
