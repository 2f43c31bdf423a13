"""Photon-HDF5 writer/reader: spec layout (Photon-HDF5 v0.5, Ingargiola et al. 2016;
field list from phconvert's specs/photon-hdf5_specs.json), round trips, files written by
another tool with other units, errors; and `read_photon_file` dispatch."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from sdl.analysis.photon_files import (
    PhotonData,
    PhotonFileError,
    read_photon_file,
    read_photon_hdf5,
    write_photon_hdf5,
    write_ptu,
)


def _t2(n=500, seed=3) -> PhotonData:
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.integers(0, 10**7, n)).astype(np.int64)
    return PhotonData(timestamps_ps=ts, channels=rng.integers(1, 3, n).astype(np.uint8),
                      markers_ps=ts[::100].copy(), marker_channels=np.full(5, 4, np.uint8),
                      resolution_ps=1.0, record_type="HydraHarp2T2")


def _t3(n=500, seed=4) -> PhotonData:
    rng = np.random.default_rng(seed)
    ns = np.cumsum(rng.integers(0, 50, n)).astype(np.int64)
    dt = rng.integers(0, 3000, n).astype(np.int64) * 4
    ts = ns * 12500 + dt
    order = np.argsort(ts, kind="stable")
    return PhotonData(timestamps_ps=ts[order], channels=rng.integers(1, 3, n).astype(np.uint8),
                      sync_period_ps=12500, resolution_ps=4.0, nsync=ns[order], dtime_ps=dt[order],
                      record_type="PicoHarpT3")


def test_spec_fields_written(tmp_path):
    p = tmp_path / "a.h5"
    write_photon_hdf5(p, _t3(), author="me")
    with h5py.File(p, "r") as f:
        assert f.attrs["format_name"] == "Photon-HDF5" and f.attrs["format_version"] == "0.5"
        assert f["photon_data/timestamps"].dtype == np.int64
        assert f["photon_data/detectors"].dtype == np.uint8
        assert f["photon_data/timestamps_specs/timestamps_unit"][()] == 1e-12
        assert f["photon_data/measurement_specs/measurement_type"][()] == b"generic"
        assert f["photon_data/measurement_specs/laser_repetition_rate"][()] == pytest.approx(8e7)
        assert f["photon_data/nanotimes_specs/tcspc_unit"][()] == pytest.approx(4e-12)
        assert f["photon_data/nanotimes"].dtype == np.uint16
        for key in ("num_pixels", "num_spots", "num_spectral_ch", "num_polarization_ch",
                    "num_split_ch", "modulated_excitation", "lifetime", "excitation_cw",
                    "excitation_alternated"):
            assert key in f["setup"], key
        assert f["setup/lifetime"][()] == 1 and f["setup/lifetime"].dtype.kind == "i"
        assert f["setup/excitation_cw"][()].tolist() == [0]
        for key in ("creator", "software", "format_name", "format_version", "creation_time",
                    "filename", "author"):
            assert key in f["identity"], key
        assert b"timestamp" in f["photon_data/timestamps"].attrs["TITLE"]
        assert "TITLE" in f["photon_data"].attrs
        assert f["acquisition_duration"][()] > 0


def test_t2_round_trip(tmp_path):
    d = _t2()
    p = tmp_path / "t2.hdf5"
    write_photon_hdf5(p, d)
    r = read_photon_hdf5(p)
    np.testing.assert_array_equal(r.timestamps_ps, d.timestamps_ps)
    np.testing.assert_array_equal(r.channels, d.channels)
    np.testing.assert_array_equal(r.markers_ps, d.markers_ps)
    np.testing.assert_array_equal(r.marker_channels, d.marker_channels)
    assert r.nsync is None and r.sync_period_ps == 0 and r.record_type == "HydraHarp2T2"
    assert r.header["/identity/format_name"] == "Photon-HDF5"


def test_t3_round_trip(tmp_path):
    d = _t3()
    p = tmp_path / "t3.h5"
    write_photon_hdf5(p, d)
    r = read_photon_hdf5(p)
    for name in ("timestamps_ps", "channels", "nsync", "dtime_ps"):
        np.testing.assert_array_equal(getattr(r, name), getattr(d, name))
    assert r.sync_period_ps == 12500 and r.resolution_ps == pytest.approx(4.0)


def test_arrays_instead_of_photon_data(tmp_path):
    p = tmp_path / "arr.h5"
    write_photon_hdf5(p, timestamps_ps=np.array([1, 5, 9]), channels=np.array([0, 1, 0]),
                      sync_period_ps=25000)
    r = read_photon_hdf5(p)
    assert r.timestamps_ps.tolist() == [1, 5, 9] and r.channels.tolist() == [0, 1, 0]
    assert r.sync_period_ps == 25000


def test_foreign_file_with_other_units(tmp_path):
    """A minimal file as phconvert writes PicoQuant T3 data: timestamps are sync counts
    (unit = laser period 12.5 ns), nanotimes in 16 ps bins, no /user group."""
    p = tmp_path / "foreign.h5"
    with h5py.File(p, "w") as f:
        f["photon_data/timestamps"] = np.array([2, 2, 3, 10], dtype=np.int64)
        f["photon_data/detectors"] = np.array([0, 1, 1, 0], dtype=np.uint8)
        f["photon_data/nanotimes"] = np.array([10, 3, 0, 700], dtype=np.uint16)
        f["photon_data/timestamps_specs/timestamps_unit"] = 12.5e-9
        f["photon_data/nanotimes_specs/tcspc_unit"] = 16e-12
        f["photon_data/measurement_specs/laser_repetition_rate"] = 80e6
    r = read_photon_file(p)
    # photon time = nsync x 12500 ps + nanotime x 16 ps, sorted by time
    assert r.timestamps_ps.tolist() == [25048, 25160, 37500, 136200]
    assert r.nsync.tolist() == [2, 2, 3, 10]
    assert r.dtime_ps.tolist() == [48, 160, 0, 11200]
    assert r.channels.tolist() == [1, 0, 1, 0]
    assert r.sync_period_ps == 12500 and r.resolution_ps == pytest.approx(16.0)
    assert r.record_type == "PhotonHDF5"


def test_foreign_file_with_free_running_macrotime_clock(tmp_path):
    p = tmp_path / "clock.h5"
    with h5py.File(p, "w") as f:
        f["photon_data/timestamps"] = np.array([3, 70], dtype=np.int64)
        f["photon_data/nanotimes"] = np.array([1, 2], dtype=np.uint16)
        f["photon_data/timestamps_specs/timestamps_unit"] = 50e-9
        f["photon_data/nanotimes_specs/tcspc_unit"] = 10e-12
        f["photon_data/measurement_specs/laser_repetition_rate"] = 40e6
    r = read_photon_file(p)
    assert r.timestamps_ps.tolist() == [150_000, 3_500_000]  # the macrotime itself
    assert r.nsync.tolist() == [6, 140]  # floor(macrotime / 25 ns)
    assert r.channels.tolist() == [0, 0]


def test_errors(tmp_path):
    not_h5 = tmp_path / "x.h5"
    not_h5.write_bytes(b"hello")
    with pytest.raises(PhotonFileError, match="HDF5"):
        read_photon_hdf5(not_h5)
    p = tmp_path / "bad.h5"
    with h5py.File(p, "w") as f:
        f["photon_data/timestamps"] = np.array([5, 3], dtype=np.int64)
        f["photon_data/timestamps_specs/timestamps_unit"] = 1e-12
    with pytest.raises(PhotonFileError, match="decrease at index 1"):
        read_photon_hdf5(p)
    with h5py.File(p, "w") as f:
        f["photon_data/timestamps"] = np.array([1, 3], dtype=np.int64)
    with pytest.raises(PhotonFileError, match="timestamps_unit"):
        read_photon_hdf5(p)
    with h5py.File(p, "w") as f:
        f["photon_data0/timestamps"] = np.array([1], dtype=np.int64)
    with pytest.raises(PhotonFileError, match="spot=N"):
        read_photon_hdf5(p)
    with pytest.raises(PhotonFileError, match="non-decreasing"):
        write_photon_hdf5(tmp_path / "w.h5", timestamps_ps=np.array([3, 1]), channels=np.array([0, 0]))
    for key, dtype in (("detectors", np.uint8), ("nanotimes", np.uint16)):
        with h5py.File(p, "w") as f:  # one entry short of one per photon
            f["photon_data/timestamps"] = np.array([1, 3, 4], dtype=np.int64)
            f["photon_data/timestamps_specs/timestamps_unit"] = 1e-12
            f[f"photon_data/{key}"] = np.array([0, 1], dtype=dtype)
            f["photon_data/nanotimes_specs/tcspc_unit"] = 1e-12
        with pytest.raises(PhotonFileError, match=f"/photon_data/{key} has 2 entries, timestamps 3"):
            read_photon_hdf5(p)


def test_read_photon_file_dispatch_by_magic(tmp_path):
    ptu = tmp_path / "data.bin"  # no telling extension: magic decides
    write_ptu(ptu, np.array([10, 20]), np.array([1, 2]))
    assert read_photon_file(ptu).record_type == "HydraHarp2T2"
    h5 = tmp_path / "data.dat"
    write_photon_hdf5(h5, _t2())
    assert read_photon_file(h5).n_photons == 500
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"not photons")
    with pytest.raises(PhotonFileError, match="unknown photon file format"):
        read_photon_file(junk)
    with pytest.raises(PhotonFileError, match="cannot open"):
        read_photon_file(tmp_path / "missing.ptu")
    bad_ptu = tmp_path / "bad.ptu"
    bad_ptu.write_bytes(b"XXXX")
    with pytest.raises(PhotonFileError, match="too short"):
        read_photon_file(bad_ptu)


def test_ptu_to_photon_hdf5_conversion_keeps_everything(tmp_path):
    rng = np.random.default_rng(5)
    ns = np.cumsum(rng.integers(0, 2000, 300))
    dt = rng.integers(0, 1000, 300) * 8
    ptu = tmp_path / "in.ptu"
    write_ptu(ptu, ns * 12500 + dt, rng.integers(1, 3, 300), record_type="HydraHarp2T3",
              resolution_ps=8.0, sync_period_ps=12500, nsync=ns, dtime_ps=dt,
              markers_ps=ns[::50] * 12500, marker_channels=np.full(6, 1))
    d = read_photon_file(ptu)
    out = tmp_path / "out.h5"
    write_photon_hdf5(out, d, provenance_filename=str(ptu))
    r = read_photon_file(out)
    for name in ("timestamps_ps", "channels", "nsync", "dtime_ps", "markers_ps", "marker_channels"):
        np.testing.assert_array_equal(getattr(r, name), getattr(d, name))
    assert r.record_type == "HydraHarp2T3" and r.header["/provenance/filename"] == "in.ptu"


def test_photon_data_validation():
    with pytest.raises(ValueError, match="int64"):
        PhotonData(timestamps_ps=np.array([1.0]), channels=np.array([0], np.uint8))
    with pytest.raises(ValueError, match="entries"):
        PhotonData(timestamps_ps=np.array([1]), channels=np.array([0, 1], np.uint8))
    with pytest.raises(ValueError, match="both"):
        PhotonData(timestamps_ps=np.array([1]), channels=np.array([0], np.uint8),
                   nsync=np.array([1]))
    d = _t2()
    assert d.channel_timestamps(1).tolist() == d.timestamps_ps[d.channels == 1].tolist()
    assert not d.is_t3 and _t3().is_t3


def test_tttrlib_reads_our_photon_hdf5_identically(tmp_path):
    tttrlib = pytest.importorskip("tttrlib")
    d = _t3()
    p = tmp_path / "t3.h5"
    write_photon_hdf5(p, d)
    t = tttrlib.TTTR(str(p), "PHOTON-HDF5")
    assert np.array_equal(np.asarray(t.macro_times).astype(np.int64), d.timestamps_ps)
    assert np.array_equal(np.asarray(t.micro_times).astype(np.int64) * 4, d.dtime_ps)
    assert np.array_equal(np.asarray(t.routing_channels).astype(np.int64), d.channels)
    assert t.header.macro_time_resolution == pytest.approx(1e-12)
    assert t.header.micro_time_resolution == pytest.approx(4e-12)
