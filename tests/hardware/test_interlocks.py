"""Interlocks as pure functions of snapshots: each trips on its condition, names the
device and reason, and stays quiet on the normal cases next to it."""

from __future__ import annotations

import pytest

from hardware.errors import RigUnavailable
from hardware.interlocks import (
    DeviceLost,
    HeaterAlarm,
    LostHeartbeat,
    OverTemperature,
    PumpAlarm,
    RisingAtZeroOutput,
    Snapshot,
    SpectrometerNotAnswering,
    default_interlocks,
)
from sdl.errors import exit_code_of


def snap(t=0.0, **kw) -> Snapshot:
    kw.setdefault("spectrometer", "sts")
    return Snapshot(t, **kw)


def test_over_temperature_trips_above_limit_and_clears_with_hysteresis():
    lock = OverTemperature(300.0, hysteresis_c=5.0)
    assert not lock.should_trip(snap(temperature_c={"heater_core": 300.0}))
    assert lock.should_trip(snap(temperature_c={"heater_core": 300.1, "heater_shell": 200.0}))
    assert lock.device == "heater_core" and "300.1" in lock.justification()
    assert not lock.should_clear(snap(temperature_c={"heater_core": 296.0}))
    assert lock.should_clear(snap(temperature_c={"heater_core": 294.9}))


def test_rising_at_zero_output_needs_the_whole_window_at_zero():
    lock = RisingAtZeroOutput(rise_c=3.0, window_s=30.0)
    # heating normally: output > 0, temperature rising -> never trips
    for i in range(10):
        assert not lock.should_trip(snap(5.0 * i, temperature_c={"h": 100 + 5 * i},
                                         output_pct={"h": 80.0}))
    # output 0 and rising 1 degC per 5 s: trips once 30 s of window have passed
    trips = [lock.should_trip(snap(100 + 5.0 * i, temperature_c={"h": 250 + i},
                                   output_pct={"h": 0.0})) for i in range(8)]
    assert trips == [False] * 6 + [True, True]
    assert lock.device == "h" and "0 % output" in lock.justification()


def test_rising_at_zero_output_quiet_when_cooling_or_output_returns():
    lock = RisingAtZeroOutput(rise_c=3.0, window_s=30.0)
    for i in range(20):  # cooling at 0 % output
        assert not lock.should_trip(snap(5.0 * i, temperature_c={"h": 300 - i},
                                         output_pct={"h": 0.0}))
    for i in range(20):  # small overshoot then output back on: window restarts
        out = 0.0 if i % 4 else 20.0
        assert not lock.should_trip(snap(200 + 5.0 * i, temperature_c={"h": 250 + 0.5 * (i % 4)},
                                         output_pct={"h": out}))


@pytest.mark.parametrize("alarm", ["sensor_break", "loop_break", "manual"])
def test_heater_alarm_reason_is_the_alarm(alarm):
    lock = HeaterAlarm()
    assert not lock.should_trip(snap())
    assert lock.should_trip(snap(heater_alarm={"heater_core": alarm}))
    assert (lock.code, lock.device) == (alarm, "heater_core")
    assert lock.should_clear(snap())


@pytest.mark.parametrize("letter,code", [("S", "pump_stall"), ("T", "lost_heartbeat"),
                                         ("R", "pump_reset"), ("E", "pump_program_error")])
def test_pump_alarm_codes(letter, code):
    lock = PumpAlarm()
    assert lock.should_trip(snap(pump_alarm={"pump_metal": letter}))
    assert (lock.code, lock.device) == (code, "pump_metal")


def test_pump_stopped_while_expected_running():
    lock = PumpAlarm()
    running = {"pump_metal": True, "pump_anion": False}
    assert not lock.should_trip(snap(pump_running=running, pumps_expected=frozenset({"pump_metal"})))
    assert lock.should_trip(snap(pump_running=running,
                                 pumps_expected=frozenset({"pump_metal", "pump_anion"})))
    assert (lock.code, lock.device) == ("pump_stopped", "pump_anion")


def test_lost_heartbeat_waits_for_timeout_and_ignores_the_spectrometer():
    lock = LostHeartbeat(timeout_s=1.0)
    assert not lock.should_trip(snap(silent={"pump_metal": 0.5}))
    assert not lock.should_trip(snap(silent={"sts": 10.0}))
    assert lock.should_trip(snap(silent={"pump_metal": 1.0}))
    assert lock.device == "pump_metal"
    spec = SpectrometerNotAnswering()
    assert spec.should_trip(snap(silent={"sts": 0.0})) and spec.device == "sts"
    assert not spec.should_trip(snap(silent={"pump_metal": 5.0}))


def test_supervisor_reports_first_trip_with_reason_code():
    sup = default_interlocks(300.0)
    assert sup.check(snap(temperature_c={"heater_core": 250.0}, output_pct={"heater_core": 30})) is None
    trip = sup.check(snap(7.0, temperature_c={"heater_core": 305.0},
                          pump_alarm={"pump_metal": "S"}))
    assert trip is not None and trip.reason == "over_temperature:heater_core" and trip.t_s == 7.0
    trip = sup.check(snap(heater_alarm={"heater_core": "sensor_break"}))
    assert trip.reason == "sensor_break:heater_core"


def test_device_lost_is_a_clean_rig_unavailable():
    err = DeviceLost("pump_metal", "no reply", 2)
    assert isinstance(err, RigUnavailable) and exit_code_of(err) == 3
    assert "pump_metal" in str(err) and "sdl resume" in str(err) and "\n" not in str(err)
    assert "the rig is in its safe state" in str(err)
    err = DeviceLost("heater_core", "no reply", 2, ["heater_core: no reply"])
    assert "INCOMPLETE (heater_core: no reply)" in str(err) and "safe state" in str(err)
    assert "the rig is in its safe state" not in str(err)
