"""Stage 2: shell oversupply, halide exchange, dopant Poisson statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.materials import load_material
from simulator.stage2 import dopant_uptake, grow_shell, halide_exchange, mn_emission_per_dot

CDSE = load_material("CdSe")
PERO = load_material("CsPbBr3")
MN = load_material("Mn:ZnSe")


def test_shell_secondary_nucleation_when_oversupplied():
    zns = CDSE.shells["ZnS"]
    slow = grow_shell(zns, "ZnS", 3.0, 220.0, 300.0, 0.01, 4.6)
    fast = grow_shell(zns, "ZnS", 3.0, 220.0, 10.0, 0.01, 4.6)
    assert slow.secondary_fraction == 0.0 and slow.thickness_nm > 0.8
    assert fast.secondary_fraction > 0.3 and fast.thickness_nm < slow.thickness_nm
    assert grow_shell(zns, "ZnS", 0.0, 220.0, 60.0, 0.01, 4.6).thickness_nm == 0.0


def test_halide_exchange_relaxes_and_shifts_gap():
    ox = PERO.optics
    cl = halide_exchange(ox, "Cl", 0.5, 25.0, 600.0)
    i_ = halide_exchange(ox, "I", 0.5, 25.0, 600.0)
    short = halide_exchange(ox, "Cl", 0.5, 25.0, 0.5)
    assert cl.fraction == pytest.approx(0.5, rel=1e-3) and short.fraction < cl.fraction
    assert cl.gap_shift_ev > 0 > i_.gap_shift_ev
    assert i_.segregated_fraction > 0 and cl.segregated_fraction == 0


def test_dopant_efficiency_is_tenth_of_feed_at_optimum():
    # DOMAIN s6: incorporation ~10x below the feed ratio.
    d = dopant_uptake(MN.dopant, 0.05, MN.dopant["efficiency_optimum_c"], 10.0)
    assert d.efficiency == pytest.approx(0.1)
    assert d.interior_per_site == pytest.approx(0.005, rel=1e-6)


def test_mn_emission_equals_poisson_sum():
    # Sum_k P(k) q exp(-c (k-1)) over Poisson(lambda), k >= 1.
    q, c = 0.6, 0.45
    for lam in (0.1, 1.0, 3.0):
        direct = sum(math.exp(-lam) * lam**k / math.factorial(k) * q * math.exp(-c * (k - 1))
                     for k in range(1, 60))
        assert float(mn_emission_per_dot(np.array([lam]), q, c)[0]) == pytest.approx(direct)
