"""Lab-time model: settling law, flush = n residence volumes, shared with the FlowRig plan."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sdl.vocab.flows import flow_chemistry, flows_from_conditions
from sdl.vocab.labtime import FlowTiming, flush_seconds, lab_time, run_lab_time, settle_seconds

COND = {"temperature_c": 260.0, "shell_temperature_c": 220.0, "residence_time_s": 120.0,
        "metal_conc_mm": 10.0, "se_to_cd": 2.0, "ligand_to_metal": 3.0,
        "dopant_feed_fraction": 0.0, "shell_monolayers": 0.0, "exchange_fraction": 0.0,
        "acquisition_s": 30.0}


def test_settle_is_ramp_time_plus_stable_time_and_zero_within_band():
    t = FlowTiming(ramp_c_per_min=10.0, stable_for_s=45.0, temperature_band_c=1.0)
    assert settle_seconds(None, COND, t) == 0.0
    assert settle_seconds({**COND, "temperature_c": 240.0}, COND, t) == pytest.approx(20 / 10 * 60 + 45)
    assert settle_seconds({**COND, "temperature_c": 259.5}, COND, t) == 0.0
    # the stage-2 heater counts too: the larger change wins
    prev = {**COND, "temperature_c": 255.0, "shell_temperature_c": 250.0}
    assert settle_seconds(prev, COND, t) == pytest.approx(30 / 10 * 60 + 45)


def test_flush_is_n_residence_times_and_equals_the_flowrig_plan():
    from hardware.flowplan import flush_seconds as plan_flush

    flows = flows_from_conditions(COND, flow_chemistry("CdSe"), 500.0)
    t = FlowTiming(flush_volumes=3.0, reactor_volume_ul=500.0)
    # Q_core = 60 V / tau, so n V / Q_core * 60 = n tau = 360 s
    assert flush_seconds(flows, t) == pytest.approx(3 * 120.0)
    reactor = SimpleNamespace(volume_ul=500.0, stage2_volume_ul=200.0, flush_volumes=4.0)
    t2 = FlowTiming(flush_volumes=4.0, reactor_volume_ul=500.0, stage2_volume_ul=200.0)
    assert flush_seconds(flows, t2) == pytest.approx(plan_flush(flows, reactor))


def test_lab_time_sums_its_parts_and_solvent_is_flow_times_pumped_time():
    flows = flows_from_conditions(COND, flow_chemistry("CdSe"), 500.0)
    t = FlowTiming()
    lt = lab_time({**COND, "temperature_c": 280.0}, COND, flows, t, photons=True)
    assert lt.settle_s == pytest.approx(20 / 20 * 60 + 30)
    assert lt.acquisition_s == 30.0
    assert lt.total_s == pytest.approx(lt.settle_s + 360.0 + 5.0 + 30.0)
    assert lt.solvent_ml == pytest.approx(flows["solvent"] * (360.0 + 5.0 + 30.0) / 60e3)
    total, ml = run_lab_time([COND, {**COND, "temperature_c": 280.0}], "CdSe", t)
    assert total == pytest.approx(2 * 365.0 + 90.0)
    assert ml > 0
