"""`hardware.limits.check_plan`: the whole-run check FlowRig makes before any device moves."""

from __future__ import annotations

import tomllib
from types import SimpleNamespace

import numpy as np
import pytest

from hardware.flowplan import flush_seconds, photon_stream
from hardware.limits import check_plan
from sdl.schema.rig import RigFile
from tests.hardware.flowrig_fixtures import RIG_TOML, conditions

RIG = RigFile.model_validate(tomllib.loads(RIG_TOML))
FLOWS = {"metal": 20.0, "anion": 16.0, "ligand": 16.0, "solvent": 148.0, "dopant": 0.0}


def test_a_sound_plan_passes():
    assert check_plan(conditions(), RIG, {}, flows_ul_min=FLOWS, planned_s=150.0,
                      ramp_c_per_min=60.0) == []


def test_syringe_volume_includes_flush_and_measurement():
    # 148 uL/min for 150 s = 370 uL of solvent
    ok = check_plan(conditions(), RIG, {"pump_solvent": 371.0}, flows_ul_min=FLOWS, planned_s=150.0)
    short = check_plan(conditions(), RIG, {"pump_solvent": 369.0}, flows_ul_min=FLOWS,
                       planned_s=150.0)
    assert ok == [] and len(short) == 1 and "pump_solvent needs 370 uL" in short[0]


@pytest.mark.parametrize("kw,needle", [
    ({"flows_ul_min": {**FLOWS, "solvent": 3000.0}}, "total flow of all inlets"),
    ({"flows_ul_min": {**FLOWS, "dopant": 1.0}}, "inlet dopant must flow"),
    ({"ramp_c_per_min": 61.0}, "ramp rate 61"),
])
def test_each_limit_names_itself(kw, needle):
    args = {"flows_ul_min": FLOWS, "planned_s": 10.0, **kw}
    problems = check_plan(conditions(), RIG, {}, **args)
    assert len(problems) == 1 and needle in problems[0]


def test_temperature_limit_comes_from_check_conditions():
    problems = check_plan(conditions(temperature_c=301.0), RIG, {}, flows_ul_min=FLOWS,
                          planned_s=10.0)
    assert any("max_temperature_c" in p for p in problems)


def test_flush_time_is_flush_volumes_residence_times():
    # 3 x (100 uL / 200 uL/min) = 1.5 min; stage 2 of 50 uL at 250 uL/min adds 3 x 0.2 min
    reactor = RIG.reactor.model_copy(update={"stage2_volume_ul": 50.0})
    flows = {**FLOWS, "shell": 50.0}
    assert flush_seconds(FLOWS, RIG.reactor) == pytest.approx(90.0)
    assert flush_seconds(flows, reactor) == pytest.approx(90.0 + 36.0)


def test_photon_stream_keeps_the_channels_as_recorded():
    """The rig does not choose detectors: the photon front end does, at analysis time."""
    data = SimpleNamespace(timestamps_ps=np.arange(5, dtype=np.int64) * 10,
                           channels=np.array([0, 1, 0, 2, 1], dtype=np.uint8), sync_period_ps=400)
    ts, ch, sync = photon_stream(data)
    assert ch.dtype == np.uint8 and ch.tolist() == [0, 1, 0, 2, 1] and sync == 400
    assert ts.dtype == np.int64 and ts.tolist() == [0, 10, 20, 30, 40]
