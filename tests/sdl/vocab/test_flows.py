"""Conditions <-> inlet flows: Q_total = V / tau and exact round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdl.vocab.conditions import complete
from sdl.vocab.flows import (
    INLETS,
    FlowInfeasible,
    conditions_from_flows,
    flow_chemistry,
    flow_materials,
    flows_from_conditions,
)


def test_core_flow_is_volume_over_tau():
    m = flow_chemistry("CdSe")
    f = flows_from_conditions(complete({"residence_time_s": 60.0}), m, 500.0)
    assert set(f) == set(INLETS)
    core = sum(f[k] for k in ("metal", "anion", "ligand", "dopant", "solvent"))
    assert core == pytest.approx(500.0)           # 500 uL per 60 s = 500 uL/min
    assert f["metal"] == pytest.approx(500.0 * 0.020 / 0.5)


@settings(max_examples=60, deadline=None)
@given(tau=st.floats(5, 1800), conc=st.floats(1, 60), ratio=st.floats(0.5, 4),
       lig=st.floats(0.5, 10), dop=st.floats(0, 0.3), ml=st.floats(0, 10),
       ex=st.floats(0, 1), material=st.sampled_from(["CdSe", "CsPbBr3", "Mn:ZnSe"]))
def test_round_trip(tau, conc, ratio, lig, dop, ml, ex, material):
    m = flow_chemistry(material)
    key = "br_to_pb" if material == "CsPbBr3" else "se_to_cd"
    c = complete({"residence_time_s": tau, "metal_conc_mm": conc, key: ratio,
                  "ligand_to_metal": lig, "dopant_feed_fraction": dop,
                  "shell_monolayers": ml, "exchange_fraction": ex})
    try:
        f = flows_from_conditions(c, m, 500.0)
    except FlowInfeasible:
        return
    back = conditions_from_flows(f, m, 500.0)
    for k, v in back.items():
        if k == "shell_monolayers" and not m.shell_monolayer_nm:
            continue
        assert v == pytest.approx(c[k], rel=1e-9, abs=1e-12), k


def test_infeasible_stocks():
    m = flow_chemistry("CdSe")
    with pytest.raises(FlowInfeasible, match="exceed"):
        flows_from_conditions(complete({"metal_conc_mm": 200.0, "se_to_cd": 10.0}), m, 500.0)


def test_rig_stocks_override_the_preset():
    """A rig file's pump stock replaces the preset's: twice the stock, half the flow."""
    c = complete({"residence_time_s": 60.0})
    base = flows_from_conditions(c, flow_chemistry("CdSe"), 500.0)
    rig = flows_from_conditions(c, flow_chemistry("CdSe", {"metal": 1.0}), 500.0)
    assert rig["metal"] == pytest.approx(base["metal"] / 2)
    assert rig["anion"] == pytest.approx(base["anion"])


def test_unknown_material_names_the_known_ones():
    with pytest.raises(KeyError, match="CdSe"):
        flow_chemistry("GaAs")
    assert set(flow_materials()) == {"CdSe", "CsPbBr3", "Mn:ZnSe"}
