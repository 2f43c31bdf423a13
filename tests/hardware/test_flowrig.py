"""FlowRig on emulated devices (in-process `emu://` lines, manual clock): one experiment
end to end, what it commands, what it records, proposal-time rejection, safe state."""

from __future__ import annotations

import numpy as np
import pytest

from hardware.drivers.eurotherm3216 import Reg
from hardware.flowrig import TRANSITIONS, flush_seconds, plan_flows
from hardware.interlocks import RigNotReady
from sdl.vocab.rig import check_rig
from tests.hardware.flowrig_fixtures import conditions, make_bench


def _log(raw, device=None, kind=None):
    return [e for e in raw.device_log
            if (device is None or e["device"] == device) and (kind is None or e["kind"] == kind)]


def test_flowrig_is_a_rig(bench):
    check_rig(bench.rig)
    assert bench.rig.reactor_volume_ul == 100.0
    assert bench.rig.limits().max_temperature_c == 300


def test_one_experiment_sets_devices_waits_flushes_and_measures(bench):
    c = conditions()
    raw = bench.rig.run(c, "e0001")
    assert raw.failure is None
    heater = bench.emu.devices["heater_core"]
    # comms setpoint, never the EEPROM target setpoint; ramp rate written once (prepare)
    assert heater.target_c == pytest.approx(250.0)
    assert Reg.TARGET_SP not in heater.eeprom_writes and Reg.SP1 not in heater.eeprom_writes
    assert heater.eeprom_writes.get(Reg.RAMP_RATE) == 1
    assert heater.ramp_c_min == pytest.approx(60.0)
    # temperature within the band and stable before the pumps started
    stable = _log(raw, "rig", "temperature_stable")[0]
    assert abs(stable["value"]["heater_core"] - 250.0) <= 1.5
    readings = [e for e in _log(raw, "heater_core", "reading_c") if e["t_s"] <= stable["t_s"]]
    in_band = [e for e in readings if e["t_s"] >= stable["t_s"] - 10.0]
    assert all(abs(e["value"] - 250.0) <= 1.5 for e in in_band) and len(in_band) >= 2
    # flows from the documented map: Q_core = 60 V / tau = 200 uL/min; metal 20 mM of 0.2 M
    flows = plan_flows(c, bench.rig_file, "CdSe")
    assert sum(flows.values()) == pytest.approx(200.0)
    assert flows["metal"] == pytest.approx(200.0 * 0.020 / 0.2)
    rates = {e["device"]: e["value"] for e in _log(raw, kind="setpoint_rate_ul_min") if e["value"] > 0}
    assert rates["pump_metal"] == pytest.approx(flows["metal"])
    # flushed >= 3 reactor volumes before the first spectrum
    t_run = min(e["t_s"] for e in _log(raw, kind="run"))
    t_acq = min(e["t_s"] for e in _log(raw, "sts", "acquire"))
    assert t_acq - t_run >= flush_seconds(flows, bench.rig_file.reactor) == pytest.approx(90.0)
    infused = sum(e["value"] for e in _log(raw, kind="dispensed_ul"))
    assert infused >= 3 * 100.0
    # spectra: sample absorbs (below the solvent reference) around the exciton, PL above dark
    ref, samp = raw.abs_reference_counts, raw.abs_sample_counts
    assert raw.wavelengths_nm.shape == ref.shape == (1024,)
    assert np.all(np.diff(raw.wavelengths_nm) > 0)
    assert (ref - samp).max() > 500
    assert (raw.pl_sample_counts - raw.pl_dark_counts).max() > 20
    # pumps stopped after the run, watchdog disarmed, light dark
    assert all(not p.running for n, p in bench.emu.devices.items() if n.startswith("pump"))
    assert bench.emu.world.light == "dark"
    assert bench.rig.state == "idle"
    # the state machine was followed and recorded
    states = [e["value"] for e in _log(raw, "rig", "state")]
    assert states == ["idle->checking", "checking->heating", "heating->flushing",
                      "flushing->measuring", "measuring->idle"]
    ts = [e["t_s"] for e in raw.device_log]
    assert ts == sorted(ts)
    assert raw.metadata["syringe_remaining_ul"]["pump_metal"] < 10000


def test_transition_table_is_closed():
    states = set(TRANSITIONS)
    assert all(nxt in states for table in TRANSITIONS.values() for nxt in table.values())


def test_second_run_does_not_rewrite_ramp_and_uses_new_setpoint(bench):
    bench.rig.run(conditions(), "e0001")
    raw = bench.rig.run(conditions(temperature_c=270.0, residence_time_s=60.0), "e0002")
    heater = bench.emu.devices["heater_core"]
    assert raw.failure is None and heater.target_c == pytest.approx(270.0)
    assert heater.eeprom_writes.get(Reg.RAMP_RATE) == 1


@pytest.mark.parametrize("bad,reason", [
    ({"temperature_c": 310.0}, "max_temperature_c"),
    ({"residence_time_s": 1.5}, "max_total_flow_ul_min"),
    ({"metal_conc_mm": 60.0, "ligand_to_metal": 10.0}, "exceed the core flow"),
    ({"dopant_feed_fraction": 0.1}, "no pump"),
])
def test_rejected_before_any_device_command(bench, bad, reason):
    before = bench.command_counts()
    t0 = bench.clock.now()
    raw = bench.rig.run(conditions(**bad), "e0009")
    assert raw.failure is not None and raw.failure.kind == "rejected"
    assert reason in raw.failure.detail
    assert bench.command_counts() == before  # the emulators saw nothing
    assert bench.clock.now() == t0 and bench.rig.state == "idle"


def test_rejected_when_a_syringe_cannot_cover_flush_and_measurement(bench):
    bench.rig.syringe_remaining_ul["pump_solvent"] = 100.0
    before = bench.command_counts()
    raw = bench.rig.run(conditions(), "e0003")
    assert raw.failure.kind == "rejected" and "pump_solvent needs" in raw.failure.detail
    assert bench.command_counts() == before


def test_photons_collected_from_the_folder(tmp_path):
    b = make_bench(tmp_path)
    try:
        b.photon_every_s = 20.0
        b.rig.prepare()
        raw = b.rig.run(conditions(), "e0001", photons=True)
        assert raw.failure is None and raw.has_photons
        assert raw.photon_timestamps_ps.dtype == np.int64 and np.all(np.diff(raw.photon_timestamps_ps) >= 0)
        # channels as the (emulated) tagger numbers its inputs; the photon front end picks
        # the two detectors when the measurement is scored
        assert set(np.unique(raw.photon_channels)) <= {1, 2}
        assert raw.metadata["photon_file"].endswith(".ptu")
    finally:
        b.close()


def test_photons_without_file_fail_the_experiment(tmp_path):
    b = make_bench(tmp_path, photon_timeout_s=30.0)
    try:
        b.rig.prepare()
        raw = b.rig.run(conditions(), "e0001", photons=True)
        assert raw.failure.kind == "device" and raw.failure.reason == "photon_timeout:hbt"
        assert all(not p.running for n, p in b.emu.devices.items() if n.startswith("pump"))
    finally:
        b.close()


def test_safe_state_is_idempotent_and_stops_everything(bench):
    bench.rig.run(conditions(), "e0001")
    pump = bench.emu.devices["pump_metal"]
    pump.running = True  # as if still pumping
    for _ in range(3):
        bench.rig.safe_state()
    heater = bench.emu.devices["heater_core"]
    assert not pump.running and heater.target_c == pytest.approx(25.0)
    assert bench.rig.last_safe_state_s < 1.0


def test_prepare_without_optics_fails_with_a_clear_message(tmp_path):
    b = make_bench(tmp_path, optics=False)
    try:
        with pytest.raises(RigNotReady, match="no optics device"):
            b.rig.prepare()
    finally:
        b.close()


def test_hardware_rig_refuses_a_rig_without_optics_before_anything_starts(tmp_path):
    from sdl.commands.emulate import rig_to_toml
    from sdl.errors import HardwareUnavailable
    from sdl.rigs import hardware_rig

    b = make_bench(tmp_path, optics=False)
    try:
        path = tmp_path / "rig.toml"
        path.write_text(rig_to_toml(b.data), encoding="utf-8")
        with pytest.raises(HardwareUnavailable, match="no optics device"):
            hardware_rig(path)
    finally:
        b.close()
