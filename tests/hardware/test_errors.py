"""hardware.errors: `tag_device` names the device on the errors it is asked to, and only those."""

from __future__ import annotations

import pytest

from hardware.errors import CommandRejected, DeviceTimeout, ProtocolError, tag_device


def test_tag_device_names_protocol_errors_by_default():
    with pytest.raises(ProtocolError) as e, tag_device("pump_metal"):
        raise ProtocolError("bad frame", raw=b"\x02?")
    assert e.value.device == "pump_metal"
    assert str(e.value).startswith("pump_metal: bad frame")


def test_tag_device_leaves_other_kinds_alone():
    with pytest.raises(DeviceTimeout) as timeout, tag_device("valve"):
        raise DeviceTimeout("no reply")
    assert timeout.value.device == ""
    with pytest.raises(CommandRejected) as rejected, tag_device("valve"):
        raise CommandRejected("refused", code=2)
    assert rejected.value.device == ""


def test_tag_device_with_kinds():
    with pytest.raises(CommandRejected) as e, tag_device("heater_core", ProtocolError,
                                                        CommandRejected):
        raise CommandRejected("illegal register", code=2)
    assert e.value.device == "heater_core"
    with tag_device("heater_core"):
        pass  # nothing raised: nothing to do
