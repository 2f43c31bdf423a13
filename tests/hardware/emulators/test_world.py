"""World: clock, scheduling, flows -> conditions, optics dependency isolation."""

from __future__ import annotations

import numpy as np
import pytest

from hardware.emulators import world as world_mod
from hardware.emulators.world import EmulatedWorld, ManualClock


def test_manual_clock():
    c = ManualClock(5.0)
    assert c.advance(2.5) == 7.5 == c.now()
    with pytest.raises(ValueError):
        c.advance(-1)


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


def test_outlet_optics_clips_conditions_and_passes_them_to_the_simulator(monkeypatch):
    calls = []

    class State:
        wavelengths_nm = np.linspace(300, 900, 11)
        absorbance = np.linspace(0, 1, 11)
        pl_photon_rate = np.ones(11)

    def fake(material, conditions, seed, **kw):
        calls.append((material, conditions["temperature_c"], conditions["ligand_to_metal"], seed,
                      kw["reactor_volume_ul"]))
        return State()

    monkeypatch.setattr(world_mod, "outlet_state", fake)  # records the call
    wl = np.array([300.0, 600.0, 900.0])
    cond = {"temperature_c": 250.0, "residence_time_s": 60.0, "metal_conc_mm": 20.0,
            "ligand_to_metal": 0.0}
    out = world_mod.outlet_optics("CdSe", cond, 3, wl, 250.0)
    assert out.source == "simulator.rig.outlet_state"
    assert np.allclose(out.absorbance, [0.0, 0.5, 1.0])
    assert calls == [("CdSe", 250.0, 0.5, 3, 250.0)]   # no ligand flow: clipped to the bound
    assert world_mod.outlet_optics("CdSe", {**cond, "metal_conc_mm": 0.0}, 3, wl).source == "no sample"

    def refuse(*a, **kw):
        raise ValueError("stocks too dilute")

    monkeypatch.setattr(world_mod, "outlet_state", refuse)
    out = world_mod.outlet_optics("CdSe", cond, 3, wl)
    assert out.source.startswith("simulator refused") and not out.absorbance.any()


def test_world_conditions_from_pump_flows():
    # sdl.vocab.flows.conditions_from_flows with the rig's stocks: Q = 100 + 400 = 500
    # uL/min, V = 500 uL -> 60 s; c_M = 0.1 M x 100/500 = 20 mM; Se:Cd = 0.1 x 400 / (0.1 x 100) = 4
    w = EmulatedWorld(ManualClock(), reactor_volume_ul=500.0)

    class P:
        def __init__(self, q):
            self.q = q

        def flow_ul_min(self, now):
            return self.q

    w.pumps = {"pm": P(100.0), "pa": P(400.0)}
    w.inlet_of = {"pm": "metal", "pa": "anion"}
    w.stock_molar = {"metal": 0.1, "anion": 0.1}
    cond = w.conditions()
    assert cond["residence_time_s"] == pytest.approx(60.0)
    assert cond["metal_conc_mm"] == pytest.approx(20.0)
    assert cond["se_to_cd"] == pytest.approx(4.0) and cond["temperature_c"] == 25.0
