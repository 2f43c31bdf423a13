"""Transport faults through real drivers, in-process and over real pseudo-terminals."""

from __future__ import annotations

import os
import time

import pytest

from hardware.drivers.eurotherm3216 import Eurotherm3216
from hardware.drivers.ne1000 import Ne1000Pump, PumpState
from hardware.drivers.ocean_obp import OceanObpSpectrometer
from hardware.errors import ChecksumError, DeviceTimeout, PortUnavailable, ProtocolError
from hardware.retry import RetryPolicy
from sdl.analysis.photon_files import write_ptu

ONE = RetryPolicy(1)


def test_no_reply_retried_by_policy(emu):
    p = Ne1000Pump(emu.urls["pump_metal"], 0, timeout_s=0.05, retry=ONE)
    emu.inject("pump_metal", "no_reply")
    with pytest.raises(DeviceTimeout):
        p.status()
    p.retry = RetryPolicy(2)
    emu.inject("pump_metal", "no_reply")
    assert p.status() is PumpState.STOPPED
    p.close()


def test_late_reply_becomes_stale_and_is_flushed(emu):
    h = Eurotherm3216(emu.urls["heater_core"], 1, timeout_s=0.05, retry=ONE)
    emu.inject("heater_core", "late_reply", 0.1)
    with pytest.raises(DeviceTimeout):
        h.read_pv()
    time.sleep(0.15)                        # the late reply lands in the input buffer
    assert h.working_output() == 0.0        # stale PV reply flushed, not mistaken for this one
    h.close()


def test_truncated_bad_crc_and_noise(emu):
    p = Ne1000Pump(emu.urls["pump_metal"], 0, timeout_s=0.05, retry=ONE, safe_mode=True)
    emu.inject("pump_metal", "truncated")
    with pytest.raises(ProtocolError):
        p.status()
    emu.inject("pump_metal", "bad_crc")
    with pytest.raises(ChecksumError):
        p.status()
    emu.inject("pump_metal", "noise")
    assert p.status() is PumpState.STOPPED
    p.close()
    s = OceanObpSpectrometer(emu.urls["sts"], timeout_s=0.2, retry=ONE)
    emu.inject("sts", "bad_crc")
    with pytest.raises(ChecksumError):
        s.serial_number()
    s.close()


def test_run_with_lost_reply_is_not_resent(emu):
    p = Ne1000Pump(emu.urls["pump_metal"], 0, timeout_s=0.05, retry=ONE)
    p.set_rate(100)
    dev = emu.devices["pump_metal"]
    emu.inject("pump_metal", "no_reply")
    n = len(dev.command_log)
    assert p.run() is PumpState.INFUSING
    assert [e.command for e in dev.command_log[n:]] == ["RUN", ""]  # RUN once, then status
    p.close()


@pytest.fixture
def pty_rig(tmp_path):
    from hardware.emulators.rig_emulator import EmulatedRig
    from hardware.emulators.world import ManualClock
    from sdl.schema.load import load_rig
    from tests.hardware.conftest import EXAMPLE_RIG

    clock = ManualClock()
    rig = EmulatedRig(load_rig(EXAMPLE_RIG), clock=clock, photon_folder=tmp_path / "ph",
                      photon_writer=write_ptu)
    rig.start("pty", link_dir=tmp_path)
    yield rig, clock
    rig.stop()


def test_real_pty_all_drivers(pty_rig):
    rig, clock = pty_rig
    path = rig.urls["pump_metal"]
    assert os.path.realpath(path).startswith("/dev/pts/")
    p = Ne1000Pump(path, 0, timeout_s=0.5)
    p.set_rate(120.0)
    p.run()
    clock.advance(30.0)
    assert p.dispensed().infused_ul == pytest.approx(60.0)
    h = Eurotherm3216(rig.urls["heater_core"], 1, timeout_s=0.5)
    assert h.read_pv() == pytest.approx(22.0)
    s = OceanObpSpectrometer(rig.urls["sts"], timeout_s=1.0)
    assert s.raw_spectrum().shape == (1024,)
    for d in (p, h, s):
        d.close()


def test_pty_port_vanishes_and_returns(pty_rig):
    rig, _ = pty_rig
    h = Eurotherm3216(rig.urls["heater_core"], 1, timeout_s=0.3, retry=ONE)
    assert h.read_pv() == pytest.approx(22.0)
    rig.inject("heater_core", "vanish")
    with pytest.raises((PortUnavailable, DeviceTimeout)):
        h.read_pv()
    with pytest.raises(PortUnavailable):
        h.read_pv()                       # link gone: the reopen fails with a clear error
    rig.inject("heater_core", "restore")
    assert h.read_pv() == pytest.approx(22.0)   # same path, new pty: reopened transparently
    h.close()


def test_socket_transport(tmp_path):
    from hardware.emulators.rig_emulator import EmulatedRig
    from hardware.emulators.world import ManualClock
    from sdl.schema.load import load_rig
    from tests.hardware.conftest import EXAMPLE_RIG

    with EmulatedRig(load_rig(EXAMPLE_RIG), clock=ManualClock(), photon_folder=tmp_path,
                     photon_writer=write_ptu) as rig:
        urls = rig.start("socket")
        assert urls["pump_metal"].startswith("socket://127.0.0.1:")
        p = Ne1000Pump(urls["pump_anion"], 1, timeout_s=0.5)
        assert p.version() == "NE1000V3.928"
        rig.inject("pump_anion", "no_reply")
        p.retry = ONE
        with pytest.raises(DeviceTimeout):
            p.status()
        assert p.status() is PumpState.STOPPED
        p.close()
