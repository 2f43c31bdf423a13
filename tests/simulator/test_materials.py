"""Presets load, validate and carry the published constants."""

from __future__ import annotations

import pytest

from simulator.materials import MATERIALS, MaterialError, load_material


@pytest.mark.parametrize("name", MATERIALS)
def test_presets_load(name):
    m = load_material(name)
    assert m.name == name and 0.01 < m.molecular_volume_nm3 < 1.0
    assert m.kinetics["growth_rate_dispersion"] >= 0


def test_cdse_molecular_volume_and_yu_eps():
    m = load_material("CdSe")
    # M/(rho N_A) = 191.37 / (5.82 x 6.022e23) cm^3 = 0.0546 nm^3 (CRC Handbook values)
    assert m.molecular_volume_nm3 == pytest.approx(0.0546, rel=1e-3)
    assert m.optics["eps_1s_prefactor"] == 5857.0 and m.optics["eps_1s_exponent"] == 2.65
    assert "ZnS" in m.shells and "CdS" in m.shells


def test_unknown_material():
    with pytest.raises(MaterialError, match="allowed"):
        load_material("InP")


@pytest.mark.parametrize("name", MATERIALS)
def test_flow_chemistry_agrees_with_the_preset(name):
    """The shared flow preset (`sdl/vocab/flow_chemistry.toml`, what FlowRig plans with)
    carries the same host cation and default-shell monolayer as the simulator's preset."""
    m = load_material(name)
    chem = m.flow_chemistry
    assert chem.material == name and chem.host_cation == m.host_cation
    ml = float(m.shells[m.default_shell]["monolayer_nm"]) if m.shells else 0.0
    assert chem.shell_monolayer_nm == ml
