"""PhotonFolder: complete-file detection (size settles AND parse succeeds), injected clock."""

from __future__ import annotations

import numpy as np
import pytest

from hardware.drivers.photon_folder import PhotonFolder
from hardware.errors import DeviceTimeout, HardwareError


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, dt: float) -> None:
        self.t += dt


def test_half_written_file_is_not_returned(tmp_path):
    clock = FakeClock()
    reads = []

    def reader(path):
        data = path.read_bytes()
        reads.append(len(data))
        if not data.endswith(b"END"):
            raise ValueError("truncated")
        return data

    folder = PhotonFolder(tmp_path, settle_s=2.0, poll_s=0.5, clock=clock, sleep=clock.sleep,
                          reader=reader)
    f = tmp_path / "a.ptu"
    f.write_bytes(b"PQTTTR partial")
    assert folder.poll() is None           # first sight: remember size
    clock.t += 1.0
    assert folder.poll() is None           # not settled yet: reader not called
    assert reads == []
    clock.t += 1.5
    assert folder.poll() is None           # settled but does not parse: keep waiting
    assert reads == [14]
    f.write_bytes(b"PQTTTR partial + rest END")
    clock.t += 0.1
    assert folder.poll() is None           # size changed: settle again
    clock.t += 2.5
    got = folder.poll()
    assert got is not None and got.path == f and got.data.endswith(b"END")
    clock.t += 5
    assert folder.poll() is None           # never returned twice


def test_wait_for_file_times_out_with_clock(tmp_path):
    clock = FakeClock()
    folder = PhotonFolder(tmp_path, settle_s=1.0, poll_s=0.5, clock=clock, sleep=clock.sleep,
                          reader=lambda p: p)
    with pytest.raises(DeviceTimeout):
        folder.wait_for_file(3.0)
    assert clock.t == pytest.approx(3.0)


def test_existing_files_ignored_and_missing_folder(tmp_path):
    (tmp_path / "old.ptu").write_bytes(b"x")
    clock = FakeClock()
    folder = PhotonFolder(tmp_path, settle_s=0.0, clock=clock, sleep=clock.sleep, reader=lambda p: p)
    assert folder.mark_existing_seen() == 1
    assert folder.poll() is None
    with pytest.raises(HardwareError):
        PhotonFolder(tmp_path / "nope", reader=lambda p: p).check()


def test_real_ptu_file_read_with_project_reader(tmp_path):
    from sdl.analysis.photon_files import read_photon_file, write_ptu

    t = np.arange(0, 10_000, 100, dtype=np.int64)
    write_ptu(tmp_path / "run.ptu", t, np.ones_like(t, dtype=np.uint8), record_type="HydraHarp2T2")
    clock = FakeClock()
    folder = PhotonFolder(tmp_path, settle_s=1.0, poll_s=0.5, clock=clock, sleep=clock.sleep,
                          reader=read_photon_file)
    got = folder.wait_for_file(10.0)
    assert np.array_equal(got.data.timestamps_ps, t)
