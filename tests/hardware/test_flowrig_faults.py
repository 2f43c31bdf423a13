"""Fault matrix: each fault injected into the emulators (back channel, never the serial
line) while FlowRig flushes leads to a retry (experiment succeeds), a failed experiment
(interlock -> safe state, the next experiment runs), or a clean stop (`DeviceLost` after
the safe state). Nothing recorded is lost: the failed measurement keeps its device log.

Trigger -> safe state is measured in wall time from the interlock tripping to the end of
`safe_state()` and must be <= 1 s. Injection -> safe state is reported too: the clock is
manual, so detection happens at the next poll without waiting, except where the device
itself needs a reply timeout to show the fault (power cycle: the first command is ignored).
"""

from __future__ import annotations

import time

import pytest

from hardware.interlocks import DeviceLost
from tests.hardware.flowrig_fixtures import (
    conditions,
    inject_when,
    pumps_stopped,
    reject_next_rate,
)

LATENCIES: dict[str, tuple[float, float]] = {}


# device, fault, value, expected failure reason (prefix) -------------------------------
INTERLOCK_FAULTS = [
    ("pump_metal", "stall", None, "pump_stall:pump_metal"),
    ("pump_anion", "watchdog", None, "lost_heartbeat:pump_anion"),
    ("pump_ligand", "power_cycle", None, "pump_reset:pump_ligand"),
    ("pump_solvent", "occlusion", 50.0, "pump_stall:pump_solvent"),
    ("heater_core", "sensor_break", None, "sensor_break:heater_core"),
    ("heater_core", "manual", 0.0, "manual:heater_core"),
    ("heater_core", "runaway", None, "rising_at_zero_output:heater_core"),
    ("sts", "not_ready", 3.0, "spectrometer_not_answering:sts"),
]


@pytest.mark.parametrize("device,fault,value,reason", INTERLOCK_FAULTS,
                         ids=[f"{d}:{f}" for d, f, _, _ in INTERLOCK_FAULTS])
def test_interlock_fault_fails_experiment_safely_and_campaign_continues(bench, device, fault,
                                                                        value, reason):
    state = "measuring" if device == "sts" else "flushing"
    if device == "sts":  # acquisitions happen without sleeping: fault at the first one
        bench.emu.devices["sts"].make_not_ready(0)
        _orig = bench.rig._measure

        def measure(*a, **kw):
            if not mark:
                mark["t"] = time.perf_counter()
                bench.emu.inject(device, fault, value)
            return _orig(*a, **kw)
        mark: dict[str, float] = {}
        bench.rig._measure = measure
    else:
        mark = inject_when(bench, state, device, fault, value)
    # runaway from 200 degC: rising at 0 % output shows before the 300 degC limit
    cond = conditions(temperature_c=200.0) if fault == "runaway" else conditions()
    raw = bench.rig.run(cond, "e0001")
    assert raw.failure is not None and raw.failure.kind == "interlock", raw.failure
    assert raw.failure.reason == reason
    assert device in raw.failure.detail
    # safe state: pumps stopped, heater idle, light dark; latency <= 1 s
    assert pumps_stopped(bench)
    assert bench.emu.devices["heater_core"].target_c == pytest.approx(25.0)
    assert bench.emu.world.light == "dark"
    latency = raw.metadata["safe_state_latency_s"]  # interlock trigger -> safe state
    LATENCIES[f"{device}:{fault}"] = (latency, bench.rig.safe_state_done_at - mark["t"])
    assert 0 < latency <= 1.0
    # nothing lost: the device log holds the interlock and the safe state
    kinds = [e["kind"] for e in raw.device_log]
    assert "interlock" in kinds and "safe_state" in kinds
    assert bench.rig.state == "idle"
    # the campaign continues: clear the fault and run the next experiment
    emu_dev = bench.emu.devices[device]
    if device == "heater_core":
        emu_dev.break_sensor(False)
        emu_dev.run_away(False)
        emu_dev.manual = False
    if fault == "occlusion":
        emu_dev.clear_occlusion()
    raw2 = bench.rig.run(conditions(), "e0002")
    assert raw2.failure is None, raw2.failure


RETRIED_FAULTS = [
    ("heater_core", "no_reply", 1.0),
    ("heater_core", "bad_crc", 1.0),
    ("heater_core", "modbus_exception", 1.0),
    ("pump_metal", "no_reply", 1.0),
    ("pump_metal", "noise", 1.0),
]


@pytest.mark.parametrize("device,fault,value", RETRIED_FAULTS,
                         ids=[f"{d}:{f}" for d, f, _ in RETRIED_FAULTS])
def test_transient_fault_is_retried_and_experiment_succeeds(bench, device, fault, value):
    inject_when(bench, "flushing", device, fault, value)
    raw = bench.rig.run(conditions(), "e0001")
    assert raw.failure is None, raw.failure


def test_spectrometer_not_ready_once_is_retried(bench):
    bench.emu.inject("sts", "not_ready", 1)
    raw = bench.rig.run(conditions(), "e0001")
    assert raw.failure is None
    assert any(e["kind"] == "alarm" and e["value"] == "obp_error_7" for e in raw.device_log)


def test_rejected_rate_fails_the_experiment_with_pumps_stopped(bench):
    reject_next_rate(bench)
    raw = bench.rig.run(conditions(), "e0001")
    assert raw.failure.kind == "device" and raw.failure.reason == "command_rejected:pump_metal"
    assert pumps_stopped(bench)
    assert bench.rig.run(conditions(), "e0002").failure is None


def test_vanished_device_stops_the_campaign_after_safe_state(bench):
    mark = inject_when(bench, "flushing", "heater_core", "vanish")
    with pytest.raises(DeviceLost, match="heater_core stopped answering.*2 reconnect") as err:
        bench.rig.run(conditions(), "e0001")
    assert err.value.exit_code == 3
    assert pumps_stopped(bench)
    assert bench.rig.state == "idle"
    assert bench.rig.safe_state_done_at - mark["t"] < 5.0  # includes 2 reconnect attempts
    # the vanished heater could not be set idle: the message must not claim a safe rig
    assert bench.rig.safe_state_problems and "heater_core" in bench.rig.safe_state_problems[0]
    assert "INCOMPLETE" in str(err.value) and "safe state is INCOMPLETE" in str(err.value)


def test_report_latencies():
    """Prints the trigger -> safe state figures measured above (run with -s)."""
    if LATENCIES:
        worst = max(v[0] for v in LATENCIES.values())
        print(f"\ninterlock trigger -> safe state: worst {worst * 1e3:.1f} ms over "
              f"{len(LATENCIES)} faults; (trigger, injection) -> safe: " +
              ", ".join(f"{k} {a * 1e3:.1f}/{b * 1e3:.1f} ms"
                        for k, (a, b) in sorted(LATENCIES.items())))
