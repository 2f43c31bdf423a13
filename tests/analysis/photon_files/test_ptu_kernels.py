"""The numba decoders against the slow record-by-record reference (`ptu_bytes.naive_decode`)
on random but valid record streams built bit by bit (not by our encoder). Integer outputs
must match exactly."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from sdl.analysis.photon_files import PhotonFileError
from sdl.analysis.photon_files.ptu import decode_t2_records, decode_t3_records
from tests.analysis.photon_files.ptu_bytes import hh_t2, hh_t3, naive_decode, pq_t2, pq_t3

PERIOD = {"PicoHarpT2": 210698240, "HydraHarpT2": 33552000, "HydraHarp2T2": 33554432,
          "MultiHarpT2": 33554432, "PicoHarpT3": 65536, "HydraHarpT3": 1024,
          "HydraHarp2T3": 1024, "MultiHarpT3": 1024}


def random_stream(rtype: str, rng: np.random.Generator, n_periods: int = 60) -> np.ndarray:
    """Per overflow period: sorted random time fields for photons/syncs/markers, then an
    overflow record (counted ones for V2 types, sometimes count 0)."""
    recs: list[int] = []
    period = PERIOD[rtype]
    t2 = rtype.endswith("T2")
    v2 = rtype not in ("PicoHarpT2", "PicoHarpT3", "HydraHarpT2", "HydraHarpT3")
    for _ in range(n_periods):
        k = int(rng.integers(0, 40))
        times = np.sort(rng.integers(0, period, k))
        for t in (int(x) for x in times):
            u = rng.random()
            if rtype == "PicoHarpT2":
                recs.append(pq_t2(15, (t & ~0xF) | int(rng.integers(1, 16))) if u < 0.1
                            else pq_t2(int(rng.integers(0, 5)), t))
            elif rtype == "PicoHarpT3":
                recs.append(pq_t3(15, int(rng.integers(1, 16)), t) if u < 0.1
                            else pq_t3(int(rng.integers(1, 5)), int(rng.integers(0, 4096)), t))
            elif t2:
                if u < 0.1:
                    recs.append(hh_t2(1, int(rng.integers(1, 16)), t))
                elif u < 0.2:
                    recs.append(hh_t2(1, 0, t))  # sync
                else:
                    recs.append(hh_t2(0, int(rng.integers(0, 64)), t))
            else:
                recs.append(hh_t3(1, int(rng.integers(1, 16)), 0, t) if u < 0.1
                            else hh_t3(0, int(rng.integers(0, 64)), int(rng.integers(0, 2**15)), t))
        if rtype.startswith("PicoHarp"):
            recs.append(pq_t2(15, 0) if t2 else pq_t3(15, 0, 0))
        elif v2:
            count = int(rng.integers(0, 4))  # 0 is read as one overflow
            recs.append(hh_t2(1, 63, count) if t2 else hh_t3(1, 63, 0, count))
        else:
            recs.append(hh_t2(1, 63, 0) if t2 else hh_t3(1, 63, 0, 0))
    return np.array(recs, dtype=np.uint32)


@pytest.mark.parametrize("rtype", ["PicoHarpT2", "HydraHarpT2", "HydraHarp2T2", "MultiHarpT2"])
@pytest.mark.parametrize("res_ps", [1.0, 4.0, 2.5])
def test_t2_kernel_matches_reference(rtype, res_ps):
    rng = np.random.default_rng(zlib.crc32(f"{rtype}{res_ps}".encode()))
    recs = random_stream(rtype, rng)
    ts, ch, _, _, mk, mch = naive_decode(rtype, recs, res_ps)
    d = decode_t2_records(recs, rtype, res_ps)
    assert d.timestamps_ps.tolist() == ts
    assert d.channels.tolist() == ch
    assert d.markers_ps.tolist() == mk
    assert d.marker_channels.tolist() == mch
    assert len(ts) > 500 and len(mk) > 20


@pytest.mark.parametrize("rtype", ["PicoHarpT3", "HydraHarpT3", "HydraHarp2T3", "MultiHarpT3"])
@pytest.mark.parametrize("sync_ps,res_ps", [(12500.0, 1.0), (25000.4, 4.0)])
def test_t3_kernel_matches_reference(rtype, sync_ps, res_ps):
    rng = np.random.default_rng(zlib.crc32(f"{rtype}{sync_ps}".encode()))
    recs = random_stream(rtype, rng)
    ts, ch, ns, dt, mk, mch = naive_decode(rtype, recs, sync_ps, res_ps)
    d = decode_t3_records(recs, rtype, sync_ps, res_ps)
    order = np.argsort(np.array(ts, dtype=np.int64), kind="stable")
    assert d.timestamps_ps.tolist() == np.array(ts)[order].tolist()
    assert d.nsync.tolist() == np.array(ns)[order].tolist()
    assert d.channels.tolist() == np.array(ch)[order].tolist()
    assert d.dtime_ps.tolist() == np.rint(np.array(dt)[order] * res_ps).astype(int).tolist()
    assert d.markers_ps.tolist() == mk and d.marker_channels.tolist() == mch
    assert np.all(np.diff(d.timestamps_ps) >= 0)


def test_marker_buffer_grows_past_initial_capacity():
    recs = np.array([hh_t2(1, 1 + i % 15, i) for i in range(1000)], dtype=np.uint32)
    d = decode_t2_records(recs, "HydraHarp2T2", 1.0)
    assert d.markers_ps.tolist() == list(range(1000)) and d.n_photons == 0


def test_public_decoders_validate_arguments():
    recs = np.zeros(3, np.uint32)
    with pytest.raises(ValueError, match="uint32"):
        decode_t2_records(recs.astype(np.int64), "HydraHarp2T2", 1.0)
    with pytest.raises(ValueError, match="record_type"):
        decode_t2_records(recs, "HydraHarp2T3", 1.0)
    with pytest.raises(ValueError, match="resolution_ps"):
        decode_t2_records(recs, "HydraHarp2T2", 0.0)
    with pytest.raises(ValueError, match="sync_period_ps"):
        decode_t3_records(recs, "HydraHarp2T3", -1.0, 1.0)


def test_decode_error_is_typed_with_record_offset():
    recs = np.array([hh_t2(0, 0, 9), hh_t2(0, 0, 3)], dtype=np.uint32)
    with pytest.raises(PhotonFileError) as info:
        decode_t2_records(recs, "HydraHarp2T2", 1.0)
    assert info.value.offset == 4
