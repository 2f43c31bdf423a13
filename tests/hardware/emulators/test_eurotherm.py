"""Emulated Eurotherm 3216: plant physics under manual/PID/ramp, and every heater fault."""

from __future__ import annotations

import math

import pytest

from hardware.drivers.eurotherm3216 import Eurotherm3216, Reg
from hardware.emulators.eurotherm import Eurotherm3216Emulator
from hardware.emulators.world import EmulatedWorld, ManualClock
from hardware.errors import CommandRejected, DeviceAlarm


@pytest.fixture
def heater(emu):
    h = Eurotherm3216(emu.urls["heater_core"], 1, timeout_s=0.05, name="heater_core")
    yield h
    h.close()


def test_open_loop_step_is_first_order_with_dead_time():
    # Exact law of the plant: T(t) = Ta + K u (1 - exp(-(t - theta)/tau)) for t > theta.
    clock = ManualClock()
    dev = Eurotherm3216Emulator(EmulatedWorld(clock), "h", ambient_c=20.0, gain_c=300.0,
                                tau_s=60.0, dead_time_s=5.0)
    dev.manual, dev.manual_output = True, 50.0
    clock.advance(4.0)
    assert dev.true_temperature(clock.now()) == pytest.approx(20.0, abs=0.5)
    for t in (30.0, 60.0, 180.0):
        clock.advance(t - clock.now())
        expected = 20.0 + 150.0 * (1 - math.exp(-(t - 5.0) / 60.0))
        assert dev.true_temperature(clock.now()) == pytest.approx(expected, abs=1.0)


def test_pid_reaches_comms_setpoint_without_eeprom_writes(heater, clock, emu):
    heater.set_comms_setpoint(200.0)
    clock.advance(1800.0)
    assert heater.read_pv() == pytest.approx(200.0, abs=0.5)
    assert 0 < heater.working_output() < 100
    dev = emu.devices["heater_core"]
    assert dev.eeprom_writes.get(Reg.TARGET_SP, 0) == 0 and dev.eeprom_writes.get(Reg.SP1, 0) == 0


def test_ramp_rate_limits_working_setpoint(heater, clock):
    heater.set_ramp_rate(10.0)
    heater.set_comms_setpoint(222.0)
    clock.advance(300.0)
    assert heater.read_working_setpoint() == pytest.approx(22.0 + 50.0, abs=0.2)
    assert heater.read_pv() == pytest.approx(72.0, abs=6.0)   # tracks the ramp
    assert heater.ramp_rate() == 10.0


def test_sensor_break(heater, emu):
    emu.inject("heater_core", "sensor_break")
    assert heater.read_status().sensor_break
    with pytest.raises(DeviceAlarm) as e:
        heater.read_pv()
    assert e.value.code == "sensor_break"
    with pytest.raises(DeviceAlarm):
        heater.check()


def test_heater_failure_gives_loop_break(heater, clock, emu):
    emu.inject("heater_core", "heater_failure")
    heater.set_comms_setpoint(250.0)
    clock.advance(300.0)
    assert heater.read_pv() < 30.0
    with pytest.raises(DeviceAlarm) as e:
        heater.check()
    assert e.value.code == "loop_break"


def test_runaway_heats_past_setpoint(heater, clock, emu):
    heater.set_comms_setpoint(100.0)
    emu.inject("heater_core", "runaway")
    clock.advance(600.0)
    assert heater.read_pv() > 300.0


def test_slow_settling_and_overshoot(clock, emu, heater):
    ref = Eurotherm3216Emulator(emu.world, "ref", address=9)
    emu.inject("heater_core", "overshoot")
    heater.set_comms_setpoint(200.0)
    ref.target_c = 200.0
    peak = peak_ref = 0.0
    for _ in range(120):
        clock.advance(10.0)
        peak = max(peak, heater.read_pv())
        peak_ref = max(peak_ref, ref.true_temperature(clock.now()))
    assert peak_ref < 203.0 < peak                  # tuned loop: no overshoot; detuned: overshoot
    fast = Eurotherm3216Emulator(emu.world, "fast", address=7)
    slow = Eurotherm3216Emulator(emu.world, "slow", address=8)
    slow.slow_settling(5.0)
    fast.target_c = slow.target_c = 200.0
    clock.advance(120.0)
    assert slow.true_temperature(clock.now()) < fast.true_temperature(clock.now()) - 50


def test_modbus_exception_injected(heater, emu):
    emu.inject("heater_core", "modbus_exception", 2)
    with pytest.raises(CommandRejected) as e:
        heater.read_pv()
    assert e.value.code == 2
    heater.read_pv()


def test_switched_to_manual(heater, clock, emu):
    emu.inject("heater_core", "manual", 0.0)
    with pytest.raises(DeviceAlarm) as e:
        heater.check()
    assert e.value.code == "manual"
    heater.set_auto()
    heater.check()


def test_shared_modbus_line_two_slaves(emu, clock):
    a = Eurotherm3216(emu.urls["heater_core"], 1, timeout_s=0.05)
    b = Eurotherm3216(emu.urls["heater_shell"], 2, timeout_s=0.05)
    assert a.port is b.port
    b.set_comms_setpoint(150.0)
    clock.advance(1800.0)
    assert a.read_pv() == pytest.approx(22.0, abs=0.5)
    assert b.read_pv() == pytest.approx(150.0, abs=0.5)
    a.close()
    b.close()


def test_illegal_register_and_readonly_write(heater):
    with pytest.raises(CommandRejected) as e:
        heater.read_registers(9999)
    assert e.value.code == 2
    with pytest.raises(CommandRejected):
        heater._write(Reg.PV, 100)


def test_alarm1_high_threshold_in_status(heater, clock, emu):
    heater.set_alarm1_threshold(150.0)
    heater.set_alarm1_threshold(150.0)                 # unchanged: no second EEPROM write
    assert emu.devices["heater_core"].eeprom_writes[Reg.ALARM1_THRESHOLD] == 1
    assert heater.read_status().alarms == ()
    emu.inject("heater_core", "runaway")
    clock.advance(300.0)
    assert heater.read_status().alarms == (1,)
