"""A second pump family behind the same Pump protocol: Harvard Pump 11 Elite drivers
against their emulators in a FlowRig, with the pump faults of the fault matrix."""

from __future__ import annotations

import pytest

from hardware.emulators.harvard import HarvardEmulator
from tests.hardware.flowrig_fixtures import (
    assert_interlock_fails_safely,
    conditions,
    inject_when,
    pumps_stopped,
    reject_next_rate,
)


@pytest.fixture
def bench_options():
    return {"pump_driver": "harvard_elite"}


def test_experiment_with_harvard_pumps(bench):
    assert isinstance(bench.emu.devices["pump_metal"], HarvardEmulator)
    assert bench.rig.device_identities()["pump_metal"] == "11 ELITE I/W Single 3.0.4"
    raw = bench.rig.run(conditions(), "e0001")
    assert raw.failure is None, raw.failure
    flows = raw.metadata["flows_ul_min"]
    metal = bench.emu.devices["pump_metal"]
    # the pump dispensed its rate over the run (what the rig read back with ivolume)
    dispensed = [e["value"] for e in raw.device_log
                 if e["device"] == "pump_metal" and e["kind"] == "dispensed_ul"]
    assert dispensed and dispensed[0] > 0
    assert metal.rate_ul_min == pytest.approx(flows["metal"], rel=1e-3)
    assert pumps_stopped(bench)
    sent = [e.command for e in metal.command_log]
    assert "irun" in sent and "stop" in sent and any(c.startswith("irate ") for c in sent)


@pytest.mark.parametrize("device,fault,value,reason", [
    ("pump_metal", "stall", None, "pump_stall:pump_metal"),
    ("pump_anion", "empty", 0.0, "pump_stall:pump_anion"),
    ("pump_ligand", "power_cycle", None, "pump_stopped:pump_ligand"),
    ("pump_metal", "no_reply", 3.0, "lost_heartbeat:pump_metal"),  # shared line: first polled
])
def test_pump_fault_fails_the_experiment_and_the_campaign_goes_on(bench, device, fault, value,
                                                                   reason):
    assert_interlock_fails_safely(bench, device, fault, value, reason)
    bench.emu.devices[device].content_ul = bench.emu.devices[device].syringe_volume_ul
    assert bench.rig.run(conditions(), "e0002").failure is None


@pytest.mark.parametrize("fault", ["no_reply", "bad_crc", "noise"])
def test_transient_line_faults_are_retried(bench, fault):
    inject_when(bench, "flushing", "pump_metal", fault, 1.0)
    assert bench.rig.run(conditions(), "e0001").failure is None


def test_argument_error_fails_the_experiment_as_a_rejected_command(bench):
    reject_next_rate(bench)
    raw = bench.rig.run(conditions(), "e0001")
    assert raw.failure.kind == "device" and raw.failure.reason == "command_rejected:pump_metal"
    assert "Out of range" in raw.failure.detail
    assert pumps_stopped(bench)
    assert bench.rig.run(conditions(), "e0002").failure is None
