"""PTU reader on hand-built byte fixtures (one per record type, with overflow records),
error reporting, and writer round trips.

Expected values are worked out by hand from PicoQuant's TTTR record-format appendix
(PicoQuant-Time-Tagged-File-Format-Demos, doc/apx_tttrrecords.html): overflow periods
PicoHarp T2 210698240, PicoHarp T3 65536, HydraHarp V1 T2 33552000, Hydra-type V2 T2
33554432 (count in the time field), Hydra-type T3 1024 (count in nsync for V2).
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from sdl.analysis.errors import AnalysisInputError
from sdl.analysis.photon_files import PhotonFileError, decode_ptu_bytes, read_ptu, write_ptu
from tests.analysis.photon_files.ptu_bytes import (
    ANSISTRING,
    BINARYBLOB,
    BITSET64,
    BOOL8,
    COLOR8,
    EMPTY8,
    FLOAT8ARRAY,
    INT8,
    TDATETIME,
    WIDESTRING,
    hh_t2,
    hh_t3,
    pq_t2,
    pq_t3,
    ptu_bytes,
    tag_float,
    tag_int,
    tag_payload,
)

P_PQT2 = 210698240
P_HHV1 = 33552000
P_HHV2 = 33554432


def _data_offset(raw: bytes, n: int) -> int:
    return len(raw) - 4 * n


# ------------------------------------------------------------------ per record type
def test_picoharp_t2_overflow_and_marker():
    recs = [
        pq_t2(0, 100),
        pq_t2(1, 250),
        pq_t2(15, 0),  # overflow: channel 15, low 4 bits 0
        pq_t2(15, 0x120 | 0b0101),  # markers 1 and 3 at timetag 0x120
        pq_t2(1, 5),
    ]
    d = decode_ptu_bytes(ptu_bytes("PicoHarpT2", recs, glob_res=4e-12))
    assert d.record_type == "PicoHarpT2"
    assert d.timestamps_ps.tolist() == [400, 1000, (P_PQT2 + 5) * 4]
    assert d.channels.tolist() == [0, 1, 1]
    assert d.markers_ps.tolist() == [(P_PQT2 + 0x120) * 4]
    assert d.marker_channels.tolist() == [5]
    assert d.nsync is None and d.dtime_ps is None
    assert d.resolution_ps == pytest.approx(4.0)


def test_picoharp_t3_overflow_and_marker():
    recs = [
        pq_t3(1, 100, 5),
        pq_t3(15, 0, 0),  # overflow: channel 15, dtime 0
        pq_t3(15, 2, 7),  # marker 2 at nsync 65536 + 7
        pq_t3(2, 3, 1),
    ]
    d = decode_ptu_bytes(ptu_bytes("PicoHarpT3", recs, glob_res=12.5e-9, res=4e-12))
    assert d.nsync.tolist() == [5, 65537]
    assert d.dtime_ps.tolist() == [400, 12]
    assert d.timestamps_ps.tolist() == [5 * 12500 + 400, 65537 * 12500 + 12]
    assert d.channels.tolist() == [1, 2]
    assert d.markers_ps.tolist() == [(65536 + 7) * 12500]
    assert d.marker_channels.tolist() == [2]
    assert d.sync_period_ps == 12500 and d.resolution_ps == pytest.approx(4.0)


def test_markers_past_the_first_buffer_keep_order():
    """40 markers outgrow the 16-slot marker buffer (grown by doubling) in T2 and T3."""
    t2 = decode_ptu_bytes(ptu_bytes("PicoHarpT2", [pq_t2(15, (16 * i + 16) | 1)
                                                   for i in range(40)], glob_res=4e-12))
    assert t2.markers_ps.tolist() == [(16 * i + 16) * 4 for i in range(40)]
    assert t2.marker_channels.tolist() == [1] * 40
    t3 = decode_ptu_bytes(ptu_bytes("PicoHarpT3", [pq_t3(15, 1 + i % 4, i) for i in range(40)],
                                    glob_res=12.5e-9, res=4e-12))
    assert t3.markers_ps.tolist() == [i * 12500 for i in range(40)]
    assert t3.marker_channels.tolist() == [1 + i % 4 for i in range(40)]


@pytest.mark.parametrize("rtype", ["HydraHarp2T2", "TimeHarp260NT2", "TimeHarp260PT2", "MultiHarpT2"])
def test_hydra_v2_t2_overflow_count(rtype):
    recs = [
        hh_t2(0, 0, 10),  # input 1 (code 0)
        hh_t2(1, 0, 20),  # sync record -> channel 0
        hh_t2(1, 63, 3),  # three overflows at once
        hh_t2(1, 2, 7),  # marker 2
        hh_t2(0, 1, 5),  # input 2
        hh_t2(1, 63, 0),  # count 0: read as one overflow
        hh_t2(0, 7, 1),  # input 8
    ]
    d = decode_ptu_bytes(ptu_bytes(rtype, recs, glob_res=1e-12))
    assert d.record_type == rtype
    assert d.timestamps_ps.tolist() == [10, 20, 3 * P_HHV2 + 5, 4 * P_HHV2 + 1]
    assert d.channels.tolist() == [1, 0, 2, 8]
    assert d.markers_ps.tolist() == [3 * P_HHV2 + 7]
    assert d.marker_channels.tolist() == [2]


def test_hydraharp_v1_t2_each_overflow_record_is_one():
    recs = [hh_t2(0, 0, 10), hh_t2(1, 63, 3), hh_t2(0, 0, 5), hh_t2(1, 63, 0), hh_t2(0, 1, 0)]
    d = decode_ptu_bytes(ptu_bytes("HydraHarpT2", recs, glob_res=1e-12))
    assert d.timestamps_ps.tolist() == [10, P_HHV1 + 5, 2 * P_HHV1]
    assert d.channels.tolist() == [1, 1, 2]


@pytest.mark.parametrize("rtype", ["HydraHarp2T3", "TimeHarp260NT3", "TimeHarp260PT3", "MultiHarpT3"])
def test_hydra_v2_t3_overflow_count(rtype):
    recs = [
        hh_t3(0, 0, 10, 3),
        hh_t3(1, 63, 0, 2),  # two overflows: +2048 syncs
        hh_t3(1, 4, 0, 5),  # marker 4 at nsync 2053
        hh_t3(0, 5, 1, 0),  # input 6
        hh_t3(1, 63, 0, 0),  # count 0: one overflow
        hh_t3(0, 0, 0, 1),
    ]
    d = decode_ptu_bytes(ptu_bytes(rtype, recs, glob_res=12.5e-9, res=8e-12))
    assert d.nsync.tolist() == [3, 2048, 3073]
    assert d.dtime_ps.tolist() == [80, 8, 0]
    assert d.timestamps_ps.tolist() == [3 * 12500 + 80, 2048 * 12500 + 8, 3073 * 12500]
    assert d.channels.tolist() == [1, 6, 1]
    assert d.markers_ps.tolist() == [2053 * 12500]
    assert d.marker_channels.tolist() == [4]


def test_hydraharp_v1_t3_each_overflow_record_is_one():
    recs = [hh_t3(0, 0, 10, 3), hh_t3(1, 63, 0, 2), hh_t3(0, 1, 1, 0)]
    d = decode_ptu_bytes(ptu_bytes("HydraHarpT3", recs, glob_res=12.5e-9, res=8e-12))
    assert d.nsync.tolist() == [3, 1024]
    assert d.channels.tolist() == [1, 2]


def test_timeharp_recfmt_v1_byte_spelling_accepted():
    # The record-format appendix lists TimeHarp 260 N T2 as $01010205; demo code $00010205.
    raw = ptu_bytes("TimeHarp260NT2", [hh_t2(0, 0, 3)])
    raw = raw.replace(struct.pack("<q", 0x00010205), struct.pack("<q", 0x01010205))
    assert decode_ptu_bytes(raw).timestamps_ps.tolist() == [3 * 1]


def test_t3_photons_of_one_sync_are_sorted_by_time():
    recs = [hh_t3(0, 0, 500, 1), hh_t3(0, 1, 100, 1), hh_t3(0, 0, 0, 2)]
    d = decode_ptu_bytes(ptu_bytes("HydraHarp2T3", recs, glob_res=12.5e-9, res=1e-12))
    assert d.timestamps_ps.tolist() == [12600, 13000, 25000]
    assert d.channels.tolist() == [2, 1, 1]
    assert d.dtime_ps.tolist() == [100, 500, 0]
    assert d.nsync.tolist() == [1, 1, 2]


def test_non_integer_resolution_rounds_to_nearest_ps():
    # A 2.5 ps unit: tick 3 -> 7.5 ps -> 8 (round half to even), tick 5 -> 12.5 -> 12.
    d = decode_ptu_bytes(ptu_bytes("HydraHarp2T2", [hh_t2(0, 0, 3), hh_t2(0, 0, 5)],
                                   glob_res=2.5e-12))
    assert d.timestamps_ps.tolist() == [8, 12]


def test_sync_rate_gives_t2_sync_period():
    d = decode_ptu_bytes(ptu_bytes("HydraHarp2T2", [hh_t2(0, 0, 3)], sync_rate=80_000_000))
    assert d.sync_period_ps == 12500


def test_empty_record_section():
    d = decode_ptu_bytes(ptu_bytes("MultiHarpT2", []))
    assert d.n_photons == 0 and d.markers_ps.size == 0


# ------------------------------------------------------------------ header tag types
def test_every_tag_type_is_parsed_and_its_payload_skipped():
    extra = b"".join([
        tag_int("Grp", EMPTY8, 0),
        tag_int("Flag", BOOL8, 1),
        tag_int("Bits", BITSET64, 0xF0F0),
        tag_int("Col", COLOR8, 0xFF0000),
        tag_float("When", TDATETIME, 45000.5),  # 2023-03-15 12:00 UTC
        tag_payload("Arr", FLOAT8ARRAY, struct.pack("<3d", 1.0, 2.5, -3.0)),
        tag_payload("Wide", WIDESTRING, "Grüße".encode("utf-16-le") + b"\0\0" + b"\0" * 4),
        tag_payload("Blob", BINARYBLOB, bytes(range(24))),
        tag_payload("Str", ANSISTRING, b"hello\0\0\0"),
        tag_int("Indexed", INT8, 42, idx=2),
    ])
    d = decode_ptu_bytes(ptu_bytes("HydraHarp2T2", [hh_t2(0, 0, 3)], extra=extra))
    h = d.header
    assert h["Grp"] is None and h["Flag"] is True
    assert h["Bits"] == 0xF0F0 and h["Col"] == 0xFF0000
    assert (h["When"].year, h["When"].month, h["When"].day, h["When"].hour) == (2023, 3, 15, 12)
    assert h["Arr"] == [1.0, 2.5, -3.0]
    assert h["Wide"] == "Grüße"
    assert h["Blob"] == bytes(range(24))
    assert h["Str"] == "hello" and h["File_GUID"] == "{abc}"
    assert h["Indexed[2]"] == 42
    assert d.timestamps_ps.tolist() == [3]


# ------------------------------------------------------------------ errors
def _err(raw: bytes) -> PhotonFileError:
    with pytest.raises(PhotonFileError) as info:
        decode_ptu_bytes(raw)
    assert isinstance(info.value, AnalysisInputError) and isinstance(info.value, ValueError)
    return info.value


def test_bad_magic():
    e = _err(b"PQHISTO\0" + b"\0" * 100)
    assert e.offset == 0 and "magic" in str(e)


def test_truncated_records_name_the_end_of_file():
    raw = ptu_bytes("HydraHarp2T2", [hh_t2(0, 0, i) for i in range(4)], n_records=5)
    e = _err(raw)
    assert e.offset == len(raw) and "truncated" in str(e) and "5 records" in str(e)


def test_file_cut_inside_a_record():
    raw = ptu_bytes("HydraHarp2T2", [hh_t2(0, 0, i) for i in range(4)])[:-2]
    e = _err(raw)
    assert e.offset == len(raw) and "3 whole records" in str(e)


def test_trailing_bytes_are_an_error():
    raw = ptu_bytes("HydraHarp2T2", [hh_t2(0, 0, 1)], n_records=0)
    e = _err(raw)
    assert e.offset == len(raw) - 4 and "4 bytes after" in str(e)


def test_bad_channel_names_record_offset():
    recs = [pq_t2(0, 1), pq_t2(7, 2)]
    raw = ptu_bytes("PicoHarpT2", recs, glob_res=4e-12)
    e = _err(raw)
    assert e.offset == _data_offset(raw, 2) + 4 and "record 1" in str(e) and "channel" in str(e)


def test_picoharp_t3_channel_zero_is_invalid():
    raw = ptu_bytes("PicoHarpT3", [pq_t3(0, 1, 1)], glob_res=12.5e-9, res=4e-12)
    assert "channel" in str(_err(raw))


def test_undefined_hydra_special_code():
    raw = ptu_bytes("HydraHarp2T2", [hh_t2(1, 20, 5)])
    e = _err(raw)
    assert e.offset == _data_offset(raw, 1) and "special" in str(e)


def test_decreasing_t2_timestamps():
    recs = [hh_t2(0, 0, 100), hh_t2(0, 1, 50)]
    raw = ptu_bytes("HydraHarp2T2", recs)
    e = _err(raw)
    assert e.offset == _data_offset(raw, 2) + 4 and "decreases" in str(e)


def test_decreasing_t3_nsync():
    recs = [hh_t3(0, 0, 1, 100), hh_t3(0, 0, 1, 50)]
    raw = ptu_bytes("HydraHarp2T3", recs, glob_res=12.5e-9, res=1e-12)
    assert "sync index decreases" in str(_err(raw))


def test_unknown_record_type_named_with_t_mode():
    raw = ptu_bytes("HydraHarp2T2", [hh_t2(0, 0, 1)])
    raw = raw.replace(struct.pack("<q", 0x01010204), struct.pack("<q", 0x00010299))
    e = _err(raw)
    assert "0x00010299" in str(e) and "T-mode byte 2" in str(e)


def test_missing_number_of_records():
    raw = ptu_bytes("HydraHarp2T2", []).replace(b"TTResult_NumberOfRecords", b"TTResult_NumberOfRecordz")
    assert "TTResult_NumberOfRecords" in str(_err(raw))


@pytest.mark.parametrize("bad", [0.0, -1e-12, float("nan"), 5.0])
def test_bad_global_resolution(bad):
    raw = ptu_bytes("HydraHarp2T2", [hh_t2(0, 0, 1)], glob_res=bad)
    e = _err(raw)
    assert "MeasDesc_GlobalResolution" in str(e) and e.offset is not None


def test_unknown_tag_type():
    raw = ptu_bytes("HydraHarp2T2", [], extra=tag_int("Weird", 0x77777777, 0))
    e = _err(raw)
    assert "0x77777777" in str(e) and "Weird" in str(e)


def test_payload_larger_than_file():
    raw = ptu_bytes("HydraHarp2T2", [], extra=struct.pack("<32siIq", b"Big", -1, ANSISTRING, 2**40))
    e = _err(raw)
    assert "Big" in str(e) and "payload" in str(e)


def test_no_header_end():
    raw = b"PQTTTR\0\0" + b"1.0.00\0\0" + tag_int("TTResult_NumberOfRecords", INT8, 0)
    e = _err(raw)
    assert e.offset == len(raw) and "Header_End" in str(e)


def test_corrupt_overflow_count_is_a_range_error():
    recs = [hh_t2(0, 0, 1)] + [hh_t2(1, 63, 2**25 - 1)] * 5000
    raw = ptu_bytes("HydraHarp2T2", recs, glob_res=1e-3)  # 1 ns units
    assert "beyond" in str(_err(raw))


def test_read_ptu_missing_file(tmp_path):
    with pytest.raises(PhotonFileError, match="cannot read"):
        read_ptu(tmp_path / "nope.ptu")


# ------------------------------------------------------------------ writer
def _raw_records(path) -> np.ndarray:
    d = read_ptu(path)
    n = d.header["TTResult_NumberOfRecords"]
    return np.frombuffer(path.read_bytes()[-4 * n:], dtype="<u4") if n else np.zeros(0, np.uint32)


def test_writer_uses_one_counted_overflow_record_for_v2(tmp_path):
    p = tmp_path / "a.ptu"
    write_ptu(p, np.array([5, 5 * P_HHV2 + 7]), np.array([1, 2]), record_type="HydraHarp2T2")
    assert _raw_records(p).tolist() == [hh_t2(0, 0, 5), hh_t2(1, 63, 5), hh_t2(0, 1, 7)]


def test_writer_uses_single_overflow_records_for_picoharp_and_v1(tmp_path):
    p = tmp_path / "a.ptu"
    write_ptu(p, np.array([0, 2 * P_PQT2 * 4]), np.array([1, 0]), record_type="PicoHarpT2",
              resolution_ps=4.0)
    assert _raw_records(p).tolist() == [pq_t2(1, 0), pq_t2(15, 0), pq_t2(15, 0), pq_t2(0, 0)]
    write_ptu(p, np.array([2 * P_HHV1 + 1]), np.array([3]), record_type="HydraHarpT2")
    assert _raw_records(p).tolist() == [hh_t2(1, 63, 0), hh_t2(1, 63, 0), hh_t2(0, 2, 1)]


T2_TYPES = [("HydraHarp2T2", 1.0), ("HydraHarpT2", 1.0), ("PicoHarpT2", 4.0),
            ("MultiHarpT2", 5.0), ("TimeHarp260NT2", 250.0), ("TimeHarp260PT2", 25.0)]
T3_TYPES = [("HydraHarp2T3", 1.0, 2**15), ("HydraHarpT3", 8.0, 2**15), ("PicoHarpT3", 4.0, 4096),
            ("MultiHarpT3", 5.0, 2**15), ("TimeHarp260NT3", 250.0, 2**15),
            ("TimeHarp260PT3", 25.0, 2**15)]


@pytest.mark.parametrize("rtype,res", T2_TYPES)
def test_t2_round_trip(tmp_path, rtype, res):
    rng = np.random.default_rng(1)
    n = 3000
    gaps = rng.exponential(2e8, n).astype(np.int64)
    gaps[::500] += 50 * 2**25 * int(res)  # long gaps: many overflows at once
    ticks = np.cumsum(gaps) // int(res)
    ts = ticks * int(res)
    hi = 4 if rtype == "PicoHarpT2" else 8
    ch = rng.integers(0, hi + 1, n).astype(np.uint8)
    mk = np.sort(rng.choice(ts, 20, replace=False))
    if rtype == "PicoHarpT2":
        mk = mk // (16 * int(res)) * 16 * int(res)  # PicoHarp markers lose the low 4 bits
    mkc = rng.integers(1, 16, 20)
    p = tmp_path / "rt.ptu"
    write_ptu(p, ts, ch, record_type=rtype, resolution_ps=res, markers_ps=mk, marker_channels=mkc)
    d = read_ptu(p)
    np.testing.assert_array_equal(d.timestamps_ps, ts)
    np.testing.assert_array_equal(d.channels, ch)
    np.testing.assert_array_equal(d.markers_ps, mk)
    np.testing.assert_array_equal(d.marker_channels, mkc)
    assert d.record_type == rtype and d.resolution_ps == pytest.approx(res)


@pytest.mark.parametrize("rtype,res,nbins", T3_TYPES)
def test_t3_round_trip(tmp_path, rtype, res, nbins):
    rng = np.random.default_rng(2)
    n = 3000
    period = 100_000 if nbins == 4096 else 50_000
    ns = np.cumsum(rng.integers(0, 3000, n))
    ns[n // 2:] += 5000 * 1024  # > 1023 overflows at once: split over several records
    dt = rng.integers(0, min(nbins, period // int(res)), n) * int(res)
    ch = rng.integers(1, 5, n).astype(np.uint8)
    p = tmp_path / "rt3.ptu"
    write_ptu(p, ns * period + dt, ch, record_type=rtype, resolution_ps=res, sync_period_ps=period,
              markers_ps=ns[::300] * period, marker_channels=np.full(10, 9))
    d = read_ptu(p)
    order = np.argsort(ns * period + dt, kind="stable")
    np.testing.assert_array_equal(d.timestamps_ps, (ns * period + dt)[order])
    np.testing.assert_array_equal(d.nsync, ns[order])
    np.testing.assert_array_equal(d.dtime_ps, dt[order])
    np.testing.assert_array_equal(d.channels, ch[order])
    np.testing.assert_array_equal(d.markers_ps, ns[::300] * period)
    assert d.sync_period_ps == period


@pytest.mark.parametrize("kwargs,match", [
    (dict(timestamps_ps=[3, 2], channels=[1, 1]), "non-decreasing"),
    (dict(timestamps_ps=[-1, 2], channels=[1, 1]), "negative"),
    (dict(timestamps_ps=[1, 2], channels=[1, 65]), "out of range"),
    (dict(timestamps_ps=[1, 3], channels=[1, 1], resolution_ps=2.0), "multiple"),
    (dict(timestamps_ps=[1.5], channels=[1]), "integers"),
    (dict(timestamps_ps=[1], channels=[1], record_type="Nope"), "record_type"),
    (dict(timestamps_ps=[1], channels=[1], record_type="PicoHarpT3"), "sync_period_ps"),
    (dict(timestamps_ps=[4 * 5000], channels=[1], record_type="PicoHarpT3", sync_period_ps=100_000,
          resolution_ps=4.0), "outside 0..4095"),
    (dict(timestamps_ps=[1], channels=[1], markers_ps=[1], marker_channels=[16]), "1..15"),
])
def test_writer_rejects_unrepresentable_data(tmp_path, kwargs, match):
    args = dict(kwargs)
    ts, ch = args.pop("timestamps_ps"), args.pop("channels")
    with pytest.raises(PhotonFileError, match=match):
        write_ptu(tmp_path / "x.ptu", np.asarray(ts), np.asarray(ch), **args)


def test_generic_alias_writes_the_multiharp_picoharp330_type(tmp_path):
    p = tmp_path / "g.ptu"
    write_ptu(p, np.array([5, 10]), np.array([1, 3]), record_type="GenericT2", resolution_ps=5.0)
    d = read_ptu(p)
    assert d.header["TTResultFormat_TTTRRecType"] == 0x00010207
    assert d.record_type == "MultiHarpT2" and d.timestamps_ps.tolist() == [5, 10]
