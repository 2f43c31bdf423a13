"""Emulated NE-1000 pumps driven by the real driver: physics and every pump fault."""

from __future__ import annotations

import math

import pytest

from hardware.drivers.ne1000 import Ne1000Pump, PumpState
from hardware.emulators.ne1000 import STALL_PRESSURE_BAR
from hardware.errors import CommandRejected, DeviceAlarm, DeviceTimeout
from hardware.retry import RetryPolicy


@pytest.fixture
def pump(emu):
    p = Ne1000Pump(emu.urls["pump_metal"], 0, timeout_s=0.05, name="pump_metal")
    p.connect()
    p.set_diameter(14.57)
    p.set_direction("INF")
    yield p
    p.close()


def test_volume_is_rate_times_time(pump, clock, emu):
    pump.set_rate(600.0)
    pump.run()
    clock.advance(90.0)
    assert pump.dispensed().infused_ul == pytest.approx(900.0)  # 600 µL/min * 1.5 min
    assert emu.world.inlet_flows_ul_min()["metal"] == pytest.approx(600.0)
    pump.stop()
    clock.advance(60.0)
    assert pump.dispensed().infused_ul == pytest.approx(900.0)
    pump.clear_dispensed()
    assert pump.dispensed().infused_ul == 0.0


def test_target_volume_stops_pump(pump, clock):
    pump.set_rate(1000.0)
    pump.set_volume(500.0)
    pump.run()
    clock.advance(60.0)
    assert pump.status() is PumpState.STOPPED
    assert pump.dispensed().infused_ul == pytest.approx(500.0)


def test_daisy_chain_addresses_share_one_line(emu, clock):
    a = Ne1000Pump(emu.urls["pump_metal"], 0, timeout_s=0.05)
    b = Ne1000Pump(emu.urls["pump_anion"], 1, timeout_s=0.05)
    assert a.port is b.port
    a.set_rate(100.0)
    b.set_rate(300.0)
    a.run()
    b.run()
    clock.advance(60.0)
    assert a.dispensed().infused_ul == pytest.approx(100.0)
    assert b.dispensed().infused_ul == pytest.approx(300.0)
    a.close()
    b.close()


def test_empty_syringe_stalls_with_alarm(pump, clock, emu):
    emu.inject("pump_metal", "empty", 50.0)
    pump.set_rate(600.0)
    pump.run()
    clock.advance(60.0)
    with pytest.raises(DeviceAlarm) as e:
        pump.status()
    assert e.value.code == "S"
    assert pump.status() is PumpState.STOPPED           # alarm cleared by reporting it
    assert pump.dispensed().infused_ul == pytest.approx(50.0)


def test_stall_mid_dispense(pump, clock, emu):
    pump.set_rate(600.0)
    pump.run()
    emu.inject("pump_metal", "stall", 200.0)
    clock.advance(120.0)
    with pytest.raises(DeviceAlarm, match="stall"):
        pump.dispensed()
    assert pump.dispensed().infused_ul == pytest.approx(200.0)


def test_occlusion_pressure_rise_then_stall(pump, clock, emu):
    dev = emu.devices["pump_metal"]
    emu.inject("pump_metal", "occlusion", 0.1)
    pump.set_rate(60.0)
    pump.run()
    clock.advance(30.0)                                   # 30 µL -> 3 bar
    assert pump.status() is PumpState.INFUSING
    assert dev.pressure_bar == pytest.approx(3.0)
    clock.advance(300.0)
    with pytest.raises(DeviceAlarm):
        pump.status()
    assert dev.pressure_bar == pytest.approx(STALL_PRESSURE_BAR)
    assert dev.infused_ul == pytest.approx(STALL_PRESSURE_BAR / 0.1)


def test_power_cycle_first_command_ignored_then_reset_alarm(pump, clock, emu):
    pump.set_rate(100.0)
    pump.run()
    emu.inject("pump_metal", "power_cycle")
    p1 = Ne1000Pump(emu.urls["pump_metal"], 0, timeout_s=0.05, retry=RetryPolicy(1))
    with pytest.raises(DeviceTimeout):
        p1.status()                                       # ignored after power-up
    with pytest.raises(DeviceAlarm) as e:
        p1.status()
    assert e.value.code == "R"
    assert p1.status() is PumpState.STOPPED
    p1.close()


def test_connect_after_power_cycle(pump, emu):
    emu.inject("pump_metal", "power_cycle")
    assert pump.connect() == "NE1000V3.928"
    assert pump.last_alarm == "R"


def test_safe_mode_watchdog_trips_without_heartbeat(pump, clock, emu):
    pump.set_rate(100.0)
    pump.enable_watchdog(10)
    pump.run()
    for _ in range(5):
        clock.advance(8.0)
        assert pump.heartbeat() is PumpState.INFUSING     # fed in time
    clock.advance(10.5)
    with pytest.raises(DeviceAlarm) as e:
        pump.status()
    assert e.value.code == "T"
    # stopped exactly at the trip: 40 s fed + 10 s timeout = 50 s at 100 µL/min
    assert emu.devices["pump_metal"].infused_ul == pytest.approx(100.0 * 50.0 / 60.0)
    assert pump.dispensed().infused_ul == pytest.approx(83.0)  # DIS resolution: 0.001 mL


def test_watchdog_fault_injected(pump, emu):
    emu.inject("pump_metal", "watchdog")
    with pytest.raises(DeviceAlarm) as e:
        pump.status()
    assert e.value.code == "T"


@pytest.mark.parametrize("fault,code", [("oor", "?OOR"), ("na", "?NA")])
def test_injected_errors(pump, emu, fault, code):
    emu.inject("pump_metal", fault)
    with pytest.raises(CommandRejected) as e:
        pump.set_rate(10.0)
    assert e.value.code == code
    pump.set_rate(10.0)


def test_rate_limits_depend_on_diameter(pump):
    area = math.pi * 14.57 ** 2 / 4
    with pytest.raises(CommandRejected) as e:
        pump.set_rate(area * 140.0)                       # above the max plunger speed
    assert e.value.code == "?OOR"
    pump.set_rate(area * 100.0)
    assert pump.rate() == pytest.approx(area * 100.0, rel=1e-3)


def test_run_with_zero_rate_not_applicable(emu):
    p = Ne1000Pump(emu.urls["pump_shell"], 3, timeout_s=0.05)
    with pytest.raises(CommandRejected) as e:
        p.run()
    assert e.value.code == "?NA"
    p.close()


def test_command_log_records_everything(pump, emu):
    dev = emu.devices["pump_metal"]
    n = len(dev.command_log)
    pump.status()
    assert [e.command for e in dev.command_log[n:]] == [""]
    assert emu.devices["pump_solvent"].command_log == []


def test_safe_mode_ignores_basic_and_connect_falls_back(emu):
    dev = emu.devices["pump_ligand"]
    dev.safe_timeout_s = 30                       # left in safe mode (non-volatile SAF)
    p = Ne1000Pump(emu.urls["pump_ligand"], 2, timeout_s=0.05, retry=RetryPolicy(1))
    with pytest.raises(DeviceTimeout):
        p.status()                                # unframed command: not a valid packet
    assert p.connect() == "NE1000V3.928"
    assert p.safe_mode
    p.enable_watchdog(0)                          # SAF0 packet: back to basic mode
    p.safe_mode = False
    assert p.status() is PumpState.STOPPED
    p.close()


def test_power_cycle_keeps_safe_mode_timer_waits_for_first_packet(pump, clock, emu):
    pump.enable_watchdog(5)
    emu.inject("pump_metal", "power_cycle")
    clock.advance(100.0)                          # timer not armed after power-up
    assert pump.connect() == "NE1000V3.928" and pump.last_alarm == "R"
    assert pump.safe_mode
    clock.advance(4.0)
    pump.heartbeat()                              # armed by the valid packets, fed in time
    clock.advance(6.0)
    with pytest.raises(DeviceAlarm) as e:
        pump.status()
    assert e.value.code == "T"


def test_auto_alarm_packet_sent_unprompted(pump, clock, emu):
    pump.set_rate(100.0)
    pump.enable_watchdog(5)
    pump.run()
    assert pump.read_auto_alarm(0.01) is None
    clock.advance(6.0)
    assert emu.poll() == 1                        # the emulator transmits on its own
    reply = pump.read_auto_alarm(0.2)
    assert reply is not None and reply.alarm == "T" and reply.address == 0
    assert pump.last_alarm == "T"
    with pytest.raises(DeviceAlarm):              # still latched for the next reply
        pump.status()
    assert pump.status() is PumpState.STOPPED
