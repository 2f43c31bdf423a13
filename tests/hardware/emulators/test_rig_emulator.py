"""EmulatedRig: devices per rig file, shared lines, fault specs, scheduled faults, control socket."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.drivers.ne1000 import Ne1000Pump
from hardware.emulators.control import ControlServer, send_fault
from hardware.emulators.eurotherm import ModbusBus
from hardware.emulators.ne1000 import Ne1000Bus
from hardware.emulators.ocean import ObpSpectrometerEmulator
from hardware.emulators.rig_emulator import FaultSpec, parse_fault_spec
from hardware.emulators.world import EmulatedWorld, ManualClock
from hardware.errors import DeviceAlarm


def test_devices_and_shared_lines(emu):
    assert len(emu.wires) == 3                       # pump bus, Modbus line, spectrometer
    assert len({emu.urls[n] for n in ("pump_metal", "pump_anion", "pump_solvent")}) == 1
    assert emu.urls["heater_core"] == emu.urls["heater_shell"]
    assert emu.world.core_heater == "heater_core"
    assert emu.tagger is not None and "hbt" in emu.devices


@pytest.mark.parametrize("text,spec", [
    ("pump_metal:stall@120s", FaultSpec("pump_metal", "stall", None, 120.0)),
    ("sts:not_ready=3", FaultSpec("sts", "not_ready", 3.0, None)),
    ("heater_core:late_reply=2.5@10", FaultSpec("heater_core", "late_reply", 2.5, 10.0)),
])
def test_parse_fault_spec(text, spec):
    assert parse_fault_spec(text) == spec


@pytest.mark.parametrize("bad", ["pump_metal", "pump:Stall", "a:b@x", ":stall"])
def test_parse_fault_spec_rejects(bad):
    with pytest.raises(ValueError, match="DEVICE:FAULT"):
        parse_fault_spec(bad)


def test_unknown_device_or_fault_names_allowed(emu):
    with pytest.raises(ValueError, match="devices"):
        emu.inject("nope", "stall")
    with pytest.raises(ValueError, match="allowed: .*empty"):
        emu.inject("pump_metal", "sensor_break")


def test_scheduled_fault_fires_on_world_clock(emu, clock):
    p = Ne1000Pump(emu.urls["pump_metal"], 0, timeout_s=0.05)
    p.set_rate(60.0)
    p.run()
    emu.apply(parse_fault_spec("pump_metal:stall@120s"))
    clock.advance(119.0)
    p.status()
    clock.advance(2.0)
    with pytest.raises(DeviceAlarm):
        p.status()
    p.close()


def test_control_socket_back_channel(emu):
    server = ControlServer(emu).start()
    try:
        assert send_fault(server.port, "sts:lamp_failure") == "ok"
        assert not emu.devices["sts"].lamp_ok
        assert send_fault(server.port, "hbt:acquire=0.01") == "ok"
        assert list(emu.tagger.folder.glob("*.ptu"))
        assert send_fault(server.port, "sts:nonsense").startswith("error: unknown fault")
    finally:
        server.stop()


def test_emulated_tagger_file_reads_back(emu):
    from sdl.analysis.photon_files import read_photon_file

    path = emu.tagger.acquire(0.05)
    data = read_photon_file(path)
    assert len(data.timestamps_ps) > 0
    assert set(data.channels.tolist()) <= {1, 2}


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_emulators_survive_random_bytes(data):
    # Emulators must never crash on line garbage (they answer, stay silent, or NACK).
    world = EmulatedWorld(ManualClock())
    from hardware.emulators.eurotherm import Eurotherm3216Emulator
    from hardware.emulators.ne1000 import Ne1000Emulator

    pumps = Ne1000Bus(world)
    pumps.add(Ne1000Emulator(world, "p", 0))
    heaters = ModbusBus(world)
    heaters.add(Eurotherm3216Emulator(world, "h", 1))
    spec = ObpSpectrometerEmulator(world)
    for dev in (pumps, heaters, spec):
        out = dev.feed(data)
        assert all(isinstance(b, bytes) for b in out)


def test_tagger_uses_simulator_dot_when_sample_flows(emu, clock):
    from sdl.analysis.photon_files import read_photon_file

    assert emu.tagger.acquire(0.05) and emu.tagger.last_source == "dark counts"  # no flow yet
    for name, addr, rate in (("pump_metal", 0, 100.0), ("pump_anion", 1, 100.0),
                             ("pump_ligand", 2, 100.0), ("pump_solvent", 4, 200.0)):
        p = Ne1000Pump(emu.urls[name], addr, timeout_s=0.05)
        p.set_rate(rate)
        p.run()
        p.close()
    h = emu.devices["heater_core"]
    h.temp_c = h.target_c = h.working_sp_c = 250.0
    path = emu.tagger.acquire(0.2)
    assert emu.tagger.last_source in ("simulator.photons", "no dot")
    data = read_photon_file(path)
    assert set(np.unique(data.channels).tolist()) <= {1, 2}
