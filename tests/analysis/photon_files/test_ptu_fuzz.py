"""Hypothesis fuzzing of the PTU reader: random bytes, truncations and byte mutations of a
valid file give either `PhotonData` or `PhotonFileError` — never another exception, a
crash or a silently wrong length."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdl.analysis.photon_files import PhotonData, PhotonFileError, decode_ptu_bytes
from tests.analysis.photon_files.ptu_bytes import (
    ANSISTRING,
    FLOAT8ARRAY,
    WIDESTRING,
    hh_t2,
    hh_t3,
    pq_t2,
    pq_t3,
    ptu_bytes,
    tag_payload,
)

_EXTRA = (tag_payload("Comment", ANSISTRING, b"fuzz me\0")
          + tag_payload("Arr", FLOAT8ARRAY, np.arange(3.0).tobytes())
          + tag_payload("W", WIDESTRING, "ab".encode("utf-16-le") + b"\0\0\0\0"))

VALID = {
    "HydraHarp2T2": ptu_bytes("HydraHarp2T2", [hh_t2(0, 0, 5), hh_t2(1, 63, 2), hh_t2(1, 3, 1),
                                               hh_t2(0, 1, 9)], extra=_EXTRA),
    "PicoHarpT2": ptu_bytes("PicoHarpT2", [pq_t2(0, 5), pq_t2(15, 0), pq_t2(15, 0x31),
                                           pq_t2(1, 9)], glob_res=4e-12, extra=_EXTRA),
    "HydraHarp2T3": ptu_bytes("HydraHarp2T3", [hh_t3(0, 0, 5, 1), hh_t3(1, 63, 0, 3),
                                               hh_t3(1, 2, 0, 1), hh_t3(0, 1, 9, 2)],
                              glob_res=12.5e-9, res=1e-12, extra=_EXTRA),
    "PicoHarpT3": ptu_bytes("PicoHarpT3", [pq_t3(1, 5, 1), pq_t3(15, 0, 0), pq_t3(15, 4, 2),
                                           pq_t3(2, 9, 3)], glob_res=12.5e-9, res=4e-12),
}
KEYS = sorted(VALID)


def _decode_or_typed_error(raw: bytes) -> PhotonData | None:
    try:
        d = decode_ptu_bytes(raw)
    except PhotonFileError as exc:
        assert str(exc)  # a message, never empty
        return None
    assert isinstance(d, PhotonData)
    assert d.timestamps_ps.dtype == np.int64 and d.channels.shape == d.timestamps_ps.shape
    n = d.header["TTResult_NumberOfRecords"]
    assert d.n_photons + d.markers_ps.size <= n  # never more events than records
    return d


def test_valid_fixtures_decode():
    for raw in VALID.values():
        assert _decode_or_typed_error(raw).n_photons == 2


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes(raw):
    _decode_or_typed_error(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_after_valid_magic(tail):
    _decode_or_typed_error(b"PQTTTR\0\0" + tail)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KEYS), st.data())
def test_every_truncation_is_a_typed_error(key, data):
    raw = VALID[key]
    cut = data.draw(st.integers(0, len(raw) - 1))
    assert _decode_or_typed_error(raw[:cut]) is None


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(KEYS), st.data())
def test_byte_mutations(key, data):
    raw = bytearray(VALID[key])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    _decode_or_typed_error(bytes(raw))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(KEYS), st.lists(st.integers(0, 2**32 - 1), max_size=64))
def test_random_records_under_a_valid_header(key, words):
    raw = VALID[key]
    n_old = 4
    header = raw[: len(raw) - 4 * n_old]
    old_n = np.int64(n_old).tobytes()
    new_header = header.replace(b"TTResult_NumberOfRecords".ljust(32, b"\0") + b"\xff\xff\xff\xff"
                                + np.uint32(0x10000008).tobytes() + old_n,
                                b"TTResult_NumberOfRecords".ljust(32, b"\0") + b"\xff\xff\xff\xff"
                                + np.uint32(0x10000008).tobytes() + np.int64(len(words)).tobytes())
    assert new_header != header or len(words) == n_old
    _decode_or_typed_error(new_header + np.array(words, dtype="<u4").tobytes())
