"""RetryPolicy: retries only the listed errors, re-raises the last one."""

from __future__ import annotations

import pytest

from hardware.errors import DeviceAlarm, DeviceTimeout, HardwareError
from hardware.retry import RetryPolicy


def test_retries_then_succeeds():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise DeviceTimeout("x")
        return "ok"

    assert RetryPolicy(3).call(flaky) == "ok" and len(calls) == 3


def test_gives_up_and_does_not_retry_alarms():
    calls = []

    def alarm():
        calls.append(1)
        raise DeviceAlarm("stall", code="S")

    with pytest.raises(DeviceAlarm):
        RetryPolicy(5).call(alarm)
    assert len(calls) == 1
    with pytest.raises(DeviceTimeout):
        RetryPolicy(2).call(lambda: (_ for _ in ()).throw(DeviceTimeout("t")))
    with pytest.raises(ValueError):
        RetryPolicy(0)


def test_errors_carry_data_and_next_step():
    e = DeviceTimeout("no reply", sent=b"\x01", device="pump_metal")
    assert str(e).startswith("pump_metal: no reply; next: ") and e.sent == b"\x01"
    assert isinstance(e, HardwareError)
