"""Raw files round-trip every field exactly; sha256 guards against changes."""

from __future__ import annotations

import numpy as np
import pytest

from sdl.errors import RecordError
from sdl.rawfile import load_raw, save_raw, sha256_file
from sdl.vocab.measurement import Failure, RawMeasurement


def _raw(with_photons=True):
    rng = np.random.default_rng(0)
    wl = np.linspace(350, 800, 1024)
    arrs = [rng.uniform(0, 16383, wl.size) for _ in range(6)]
    ts = np.cumsum(rng.integers(1, 10**6, 5000)).astype(np.int64) if with_photons else None
    ch = rng.integers(0, 2, 5000).astype(np.uint8) if with_photons else None
    return RawMeasurement("e0001", {"temperature_c": 250.0, "flow_format": "laminar"}, wl, *arrs,
                          photon_timestamps_ps=ts, photon_channels=ch, sync_period_ps=400_000,
                          metadata={"material": "CdSe", "path_length_cm": 0.1},
                          device_log=[{"t_s": 0.0, "device": "pump", "kind": "set", "value": 1.5}],
                          failure=Failure("clog", "clog:fouling", "pressure rose"),
                          truth={"dwell_s": rng.exponential(1.0, 20000)})  # > 64 kB of JSON


def test_round_trip_exact(tmp_path):
    raw = _raw()
    digest = save_raw(raw, tmp_path / "e.h5")
    assert digest == sha256_file(tmp_path / "e.h5")
    back = load_raw(tmp_path / "e.h5", expected_sha256=digest)
    for name in RawMeasurement.SPECTRUM_FIELDS:
        np.testing.assert_array_equal(getattr(back, name), getattr(raw, name))
    np.testing.assert_array_equal(back.photon_timestamps_ps, raw.photon_timestamps_ps)
    assert back.photon_timestamps_ps.dtype == np.int64 and back.photon_channels.dtype == np.uint8
    assert back.sync_period_ps == 400_000 and back.failure == raw.failure
    assert back.conditions == raw.conditions and back.metadata == raw.metadata
    assert back.device_log == raw.device_log
    assert back.truth["dwell_s"] == raw.truth["dwell_s"].tolist()
    assert not (tmp_path / "e.h5.part").exists()


def test_no_photons(tmp_path):
    save_raw(_raw(with_photons=False), tmp_path / "e.h5")
    back = load_raw(tmp_path / "e.h5")
    assert back.photon_timestamps_ps is None and not back.has_photons


def test_changed_or_missing_file(tmp_path):
    digest = save_raw(_raw(False), tmp_path / "e.h5")
    data = bytearray((tmp_path / "e.h5").read_bytes())
    data[-100] ^= 0xFF
    (tmp_path / "e.h5").write_bytes(bytes(data))
    with pytest.raises(RecordError, match="changed since it was recorded"):
        load_raw(tmp_path / "e.h5", expected_sha256=digest)
    with pytest.raises(RecordError, match="missing"):
        load_raw(tmp_path / "nope.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(RecordError, match="unreadable"):
        load_raw(tmp_path / "junk.h5")
