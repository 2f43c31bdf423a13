"""World: clock, scheduling, flows -> conditions, optics dependency isolation."""

from __future__ import annotations

import numpy as np
import pytest

from hardware.emulators import world as world_mod
from hardware.emulators.world import EmulatedWorld, ManualClock, flows_to_conditions


def test_manual_clock():
    c = ManualClock(5.0)
    assert c.advance(2.5) == 7.5 == c.now()
    with pytest.raises(ValueError):
        c.advance(-1)


def test_flows_to_conditions_exact():
    # Q = 100 + 200 + 200 = 500 µL/min; V = 250 µL -> t_res = 30 s;
    # c_metal = 0.2 M * 100/500 = 40 mM; Se:Cd = (0.5*200)/(0.2*100) = 5
    cond = flows_to_conditions({"metal": 100, "anion": 200, "solvent": 200},
                               {"metal": 0.2, "anion": 0.5, "solvent": 0.0}, 250.0, 240.0)
    assert cond == pytest.approx({"temperature_c": 240.0, "residence_time_s": 30.0,
                                  "metal_conc_mm": 40.0, "se_to_cd": 5.0})
    assert flows_to_conditions({}, {}, 250.0, 20.0)["residence_time_s"] == 0.0


def test_schedule_fires_when_clock_passes():
    clock = ManualClock()
    w = EmulatedWorld(clock)
    fired = []
    w.schedule(10.0, lambda: fired.append(clock.now()))
    w.tick()
    assert fired == []
    clock.advance(10.0)
    w.tick()
    w.tick()
    assert fired == [10.0]


def test_simulator_dependency_isolated(monkeypatch):
    calls = []

    class State:
        wavelengths_nm = np.linspace(300, 900, 11)
        absorbance = np.linspace(0, 1, 11)
        pl_photon_rate = np.ones(11)

    def fake(material, conditions, seed):
        calls.append((material, conditions["temperature_c"], seed))
        return State()

    monkeypatch.setattr(world_mod, "_simulator_outlet", lambda: fake)
    wl = np.array([300.0, 600.0, 900.0])
    out = world_mod.outlet_optics("CdSe", {"temperature_c": 250.0}, 3, wl)
    assert out.source == "simulator.rig.outlet_state"
    assert np.allclose(out.absorbance, [0.0, 0.5, 1.0])
    assert calls == [("CdSe", 250.0, 3)]
    monkeypatch.setattr(world_mod, "_simulator_outlet", lambda: None)
    fb = world_mod.outlet_optics("CdSe", {"temperature_c": 250.0, "residence_time_s": 60,
                                          "metal_conc_mm": 20}, 3, np.linspace(350, 800, 1024))
    assert fb.source == "fallback" and fb.absorbance.max() > 0
