"""Fault matrix of the real light path: SC10 shutters, a Numato LED relay and a VICI cell
selector, driven by their drivers against their byte-level emulators inside a FlowRig.

Every fault of each light-path device ends in a retry (experiment succeeds), or a failed
experiment (interlock `light_path_unconfirmed` / `lost_heartbeat` -> safe state) after
which the campaign goes on (the next experiment runs). The rig never acquires a spectrum
through a light path it could not confirm.
"""

from __future__ import annotations

import numpy as np
import pytest

from hardware.errors import LightPathUnconfirmed
from hardware.light_path import ComposedLightPath
from tests.hardware.flowrig_fixtures import (
    assert_interlock_fails_safely,
    conditions,
    inject_when,
    make_bench,
)

LIGHT = ("lamp_shutter", "exc_shutter", "led", "valve")


@pytest.fixture
def bench_options():
    return {"light": "composed"}


def test_experiment_through_the_composed_light_path(bench):
    ids = bench.rig.device_identities()
    assert ids["lamp_shutter"] == "THORLABS SC10 VERSION 1.07"
    assert ids["valve"].startswith("VICI actuator EUH 2.20, 6 positions")
    assert ids["led"].startswith("Numato relay module, firmware 00000008")
    assert ids["pump_metal"] == "NE1000V3.928" and "serial" in ids["sts"]
    raw = bench.rig.run(conditions(), "e0001")
    assert raw.failure is None, raw.failure
    # the light really switched: lamp reference above dark, PL above dark under excitation
    assert raw.abs_reference_counts.mean() > raw.abs_dark_counts.mean() + 100
    assert raw.pl_sample_counts.max() > raw.pl_dark_counts.max()
    moves = [e["value"] for e in raw.device_log if e["kind"] == "setpoint_light"]
    assert moves[:2] == ["dark", "lamp"] and "excitation" in moves and moves[-1] == "dark"
    # ends dark, all shutters closed, LED off (read from the emulators)
    assert bench.emu.world.light == "dark"
    assert not bench.emu.devices["led"].relay[0]


# device, fault, value, expected failure reason ------------------------------------------
FAILING = [
    ("lamp_shutter", "stuck", 1.0, "light_path_unconfirmed:lamp_shutter"),
    ("exc_shutter", "interlock", 1.0, "light_path_unconfirmed:exc_shutter"),
    ("led", "stuck", 1.0, "light_path_unconfirmed:led"),
    ("valve", "wrong_position", 6.0, "light_path_unconfirmed:valve"),
    ("valve", "no_answer", 4.0, "lost_heartbeat:valve"),  # GO has no reply: 1 + 3 CP
    ("lamp_shutter", "no_answer", 3.0, "lost_heartbeat:lamp_shutter"),
    ("led", "no_answer", 3.0, "lost_heartbeat:led"),
]


@pytest.mark.parametrize("device,fault,value,reason", FAILING,
                         ids=[f"{d}:{f}" for d, f, _, _ in FAILING])
def test_light_fault_fails_the_experiment_safely_and_the_campaign_goes_on(bench, device, fault,
                                                                          value, reason):
    raw = assert_interlock_fails_safely(bench, device, fault, value, reason)
    assert bench.rig.state == "idle"
    # never measured through the unconfirmed path: no sample spectrum was recorded
    assert not np.any(raw.pl_sample_counts)
    kinds = [e["kind"] for e in raw.device_log]
    assert "interlock" in kinds and "safe_state" in kinds
    emu = bench.emu.devices[device]
    if fault in ("stuck", "interlock"):  # the operator frees it; the next experiment runs
        getattr(emu, "stick" if fault == "stuck" else "trip_interlock")(False)
    emu.wrong_moves = 0 if fault == "wrong_position" else getattr(emu, "wrong_moves", 0)
    emu._silent = 0
    raw2 = bench.rig.run(conditions(), "e0002")
    assert raw2.failure is None, raw2.failure


RETRIED = [(d, f, 1.0) for d in LIGHT for f in ("no_answer", "garbled")] + \
          [(d, "power_cycle", None) for d in LIGHT] + [("valve", "wrong_position", 1.0)]


@pytest.mark.parametrize("device,fault,value", RETRIED, ids=[f"{d}:{f}" for d, f, _ in RETRIED])
def test_transient_light_fault_is_retried_and_the_experiment_succeeds(bench, device, fault, value):
    inject_when(bench, "flushing", device, fault, value)
    raw = bench.rig.run(conditions(), "e0001")
    assert raw.failure is None, raw.failure
    assert raw.abs_reference_counts.mean() > raw.abs_dark_counts.mean() + 100


def test_a_stuck_shutter_is_not_retried_forever_and_reports_what_it_read():
    class Stuck:
        name = "s"

        def identify(self) -> str:
            return "stand-in shutter"

        def set_open(self, open_: bool) -> None:
            self.calls = getattr(self, "calls", 0) + 1

        def is_open(self) -> bool:
            return False

        def close(self) -> None:
            pass

    shutter = Stuck()
    path = ComposedLightPath({"lamp_shutter": shutter}, {"sample": 1, "solvent": 2})
    with pytest.raises(LightPathUnconfirmed) as e:
        path.set_light("lamp")
    assert shutter.calls == 2 and e.value.read_back is False and e.value.wanted is True
    with pytest.raises(LightPathUnconfirmed, match="refusing to measure"):
        path.require_confirmed()


def test_probe_reads_every_identity_without_moving_anything(tmp_path):
    b = make_bench(tmp_path, light="composed")
    try:
        assert b.rig.device_identities() == {}
        b.rig.probe()
        ids = b.rig.device_identities()
        assert set(ids) == {"pump_metal", "pump_anion", "pump_ligand", "pump_solvent",
                            "heater_core", "sts", "lamp_shutter", "exc_shutter", "led", "valve"}
        assert ids["heater_core"].startswith("instrument 0x") and ids["sts"].endswith("S12345")
        assert not any(p.running for p in b.emu.world.pumps.values())
        assert b.emu.world.light == "dark"       # shutters never opened by a probe
    finally:
        b.close()
