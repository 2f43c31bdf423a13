"""PicoQuant unified TTTR (.ptu) container: record-type table and tag header codec.

Source for every constant here: PicoQuant "PicoQuant-Time-Tagged-File-Format-Demos",
``doc/apx_tagtypes.html`` (tag layout and type codes) and ``doc/apx_tttrrecords.html``
(record types, bit layouts and overflow periods), plus the record-type codes listed in the
same repository's PTU demo readers (TimeHarp 260 and MultiHarp codes).

File layout (little-endian):
    8 bytes   magic ``b"PQTTTR\\0\\0"``
    8 bytes   tag-format version string, NUL padded (``"1.0.00"``; ``"00.0.1"`` also valid)
    tags      48 bytes each: char[32] ident (NUL padded), int32 index (-1 if not an array
              element), uint32 type code, int64 value; string/array/blob types store the
              payload size in bytes in `value` and the payload follows the tag
    ...       until the tag named ``Header_End``
    records   uint32 each, ``TTResult_NumberOfRecords`` of them
"""

from __future__ import annotations

import datetime as _dt
import math
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from sdl.analysis.photon_files.errors import PhotonFileError

MAGIC = b"PQTTTR\0\0"
TAG_FORMAT_VERSION = b"1.0.00\0\0"
TAG_SIZE = 48
_TAG_STRUCT = struct.Struct("<32siIq")

# Tag type codes (apx_tagtypes.html).
TY_EMPTY8 = 0xFFFF0008
TY_BOOL8 = 0x00000008
TY_INT8 = 0x10000008
TY_BITSET64 = 0x11000008
TY_COLOR8 = 0x12000008
TY_FLOAT8 = 0x20000008
TY_TDATETIME = 0x21000008
TY_FLOAT8ARRAY = 0x2001FFFF
TY_ANSISTRING = 0x4001FFFF
TY_WIDESTRING = 0x4002FFFF
TY_BINARYBLOB = 0xFFFFFFFF

TAG_TYPE_NAMES = {
    TY_EMPTY8: "Empty8",
    TY_BOOL8: "Bool8",
    TY_INT8: "Int8",
    TY_BITSET64: "BitSet64",
    TY_COLOR8: "Color8",
    TY_FLOAT8: "Float8",
    TY_TDATETIME: "TDateTime",
    TY_FLOAT8ARRAY: "Float8Array",
    TY_ANSISTRING: "AnsiString",
    TY_WIDESTRING: "WideString",
    TY_BINARYBLOB: "BinaryBlob",
}
_PAYLOAD_TYPES = {TY_FLOAT8ARRAY, TY_ANSISTRING, TY_WIDESTRING, TY_BINARYBLOB}

TAG_RECORD_TYPE = "TTResultFormat_TTTRRecType"
TAG_NUM_RECORDS = "TTResult_NumberOfRecords"
TAG_GLOBAL_RES = "MeasDesc_GlobalResolution"
TAG_RESOLUTION = "MeasDesc_Resolution"
TAG_SYNC_RATE = "TTResult_SyncRate"
TAG_HEADER_END = "Header_End"

# TDateTime epoch: days since 1899-12-30 00:00 (apx_tagtypes.html).
_TDATETIME_EPOCH = _dt.datetime(1899, 12, 30, tzinfo=_dt.UTC)

# Record layout families (apx_tttrrecords.html):
#   "pq_t2": PicoHarp T2, 4 ch + 28 timetag; ch 15 special, low 4 timetag bits = markers,
#            0 = one overflow.
#   "pq_t3": PicoHarp T3, 4 ch + 12 dtime + 16 nsync; ch 15 special, dtime 0 = one
#            overflow, else marker bits.
#   "hh_t2": 1 special + 6 ch + 25 timetag; special ch 63 overflow, 0 sync, 1..15 markers.
#   "hh_t3": 1 special + 6 ch + 15 dtime + 10 nsync; special ch 63 overflow, 1..15 markers.
# `count_overflows`: the overflow record's time (T2) / nsync (T3) field holds the number
# of overflows (0 read as one); False (HydraHarp V1) means each record is one overflow.


@dataclass(frozen=True)
class RecordFormat:
    """One TTTR record type: its tag value, bit layout family and overflow semantics."""

    name: str
    code: int
    family: str
    t_mode: int
    overflow_period: int
    count_overflows: bool


_FORMATS = [
    RecordFormat("PicoHarpT2", 0x00010203, "pq_t2", 2, 210698240, False),
    RecordFormat("PicoHarpT3", 0x00010303, "pq_t3", 3, 65536, False),
    RecordFormat("HydraHarpT2", 0x00010204, "hh_t2", 2, 33552000, False),
    RecordFormat("HydraHarpT3", 0x00010304, "hh_t3", 3, 1024, False),
    RecordFormat("HydraHarp2T2", 0x01010204, "hh_t2", 2, 33554432, True),
    RecordFormat("HydraHarp2T3", 0x01010304, "hh_t3", 3, 1024, True),
    RecordFormat("TimeHarp260NT2", 0x00010205, "hh_t2", 2, 33554432, True),
    RecordFormat("TimeHarp260NT3", 0x00010305, "hh_t3", 3, 1024, True),
    RecordFormat("TimeHarp260PT2", 0x00010206, "hh_t2", 2, 33554432, True),
    RecordFormat("TimeHarp260PT3", 0x00010306, "hh_t3", 3, 1024, True),
    RecordFormat("MultiHarpT2", 0x00010207, "hh_t2", 2, 33554432, True),
    RecordFormat("MultiHarpT3", 0x00010307, "hh_t3", 3, 1024, True),
]
PRIMARY_FORMATS: tuple[RecordFormat, ...] = tuple(_FORMATS)
RECORD_FORMATS: dict[str, RecordFormat] = {f.name: f for f in _FORMATS}
FORMAT_BY_CODE: dict[int, RecordFormat] = {f.code: f for f in _FORMATS}
# $00010207 / $00010307 are the "generic" T2/T3 types written by MultiHarp and PicoHarp 330
# (PicoQuant demo readers); "GenericT2"/"GenericT3" are accepted as writer aliases.
RECORD_FORMATS["GenericT2"] = RECORD_FORMATS["MultiHarpT2"]
RECORD_FORMATS["GenericT3"] = RECORD_FORMATS["MultiHarpT3"]
# The record-format appendix also lists the TimeHarp 260 types with RecFmt version byte
# $01 (e.g. $01010205); both spellings denote the same layout.
for _f in _FORMATS:
    if _f.name.startswith("TimeHarp260"):
        FORMAT_BY_CODE[_f.code | 0x01000000] = _f


@dataclass
class PtuHeader:
    """A parsed tag header.

    Attributes:
        version: tag-format version string.
        tags: tag ident (``"Name"`` or ``"Name[idx]"`` for array elements) -> value.
        tag_offsets: same keys -> byte offset of the tag in the file (for error messages).
        data_offset: byte offset of the first TTTR record.
    """

    version: str
    tags: dict[str, Any]
    tag_offsets: dict[str, int]
    data_offset: int


def tag_key(ident: str, index: int) -> str:
    """Header dict key of a tag: its ident, with ``[index]`` appended for array elements."""
    return ident if index < 0 else f"{ident}[{index}]"


def tdatetime_to_datetime(days: float) -> _dt.datetime | float:
    """Convert a TDateTime (days since 1899-12-30, UTC) to a datetime; raw float if absurd."""
    try:
        return _TDATETIME_EPOCH + _dt.timedelta(days=days)
    except (OverflowError, ValueError):
        return days


def datetime_to_tdatetime(when: _dt.datetime) -> float:
    """Convert an aware or naive-UTC datetime to TDateTime days since 1899-12-30."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return (when - _TDATETIME_EPOCH).total_seconds() / 86400.0


def read_header(fh: BinaryIO, file_size: int, path: str) -> PtuHeader:
    """Parse the magic, version and tags of a PTU file positioned at byte 0.

    Args:
        fh: binary file object at offset 0.
        file_size: total size of the file in bytes (payload sizes are checked against it
            before anything is read, so a corrupt size never triggers a huge allocation).
        path: name used in error messages.

    Returns:
        The parsed header; `fh` is left at `data_offset`.

    Raises:
        PhotonFileError: bad magic, truncated tag, unknown tag type, payload past the end
            of the file, or no ``Header_End`` tag. The message names the byte offset.
    """
    magic = fh.read(8)
    if len(magic) < 8:
        raise PhotonFileError(
            f"file is {file_size} bytes, too short for a PTU header (16 bytes at least)",
            path=path, offset=0)
    if magic != MAGIC:
        raise PhotonFileError(
            f"not a PicoQuant PTU file: magic is {magic!r}, expected {MAGIC!r}", path=path, offset=0)
    version_raw = fh.read(8)
    if len(version_raw) < 8:
        raise PhotonFileError("file ends inside the 8-byte version string", path=path, offset=8)
    version = version_raw.split(b"\0", 1)[0].decode("latin-1")
    tags: dict[str, Any] = {}
    offsets: dict[str, int] = {}
    offset = 16
    while True:
        raw = fh.read(TAG_SIZE)
        if len(raw) < TAG_SIZE:
            raise PhotonFileError(
                f"file ends inside a tag ({len(raw)} of {TAG_SIZE} bytes) before "
                f"'{TAG_HEADER_END}'", path=path, offset=offset)
        ident_raw, index, typ, value = _TAG_STRUCT.unpack(raw)
        ident = ident_raw.split(b"\0", 1)[0].decode("latin-1")
        key = tag_key(ident, index)
        tag_offset = offset
        offset += TAG_SIZE
        if typ in _PAYLOAD_TYPES:
            if value < 0 or value > file_size - offset:
                raise PhotonFileError(
                    f"tag '{key}' ({TAG_TYPE_NAMES[typ]}) declares a {value}-byte payload but "
                    f"only {file_size - offset} bytes follow", path=path, offset=tag_offset)
            payload = fh.read(value)
            if len(payload) < value:  # file shrank while reading
                raise PhotonFileError(f"file ends inside the payload of tag '{key}'",
                                      path=path, offset=offset)
            offset += value
            parsed = _decode_payload(typ, payload, key, path, tag_offset)
        elif typ in TAG_TYPE_NAMES:
            parsed = _decode_scalar(typ, raw[40:48], value)
        else:
            raise PhotonFileError(
                f"tag '{key}' has unknown type code 0x{typ:08X}; known: "
                + ", ".join(f"{n} 0x{c:08X}" for c, n in TAG_TYPE_NAMES.items()),
                path=path, offset=tag_offset)
        tags[key] = parsed
        offsets[key] = tag_offset
        if ident == TAG_HEADER_END:
            return PtuHeader(version=version, tags=tags, tag_offsets=offsets, data_offset=offset)


def _decode_scalar(typ: int, value_bytes: bytes, value: int) -> Any:
    if typ == TY_EMPTY8:
        return None
    if typ == TY_BOOL8:
        return value != 0
    if typ in (TY_INT8, TY_BITSET64, TY_COLOR8):
        return value
    (as_float,) = struct.unpack("<d", value_bytes)
    if typ == TY_FLOAT8:
        return as_float
    return tdatetime_to_datetime(as_float)  # TY_TDATETIME


def _decode_payload(typ: int, payload: bytes, key: str, path: str, offset: int) -> Any:
    if typ == TY_ANSISTRING:
        text = payload.split(b"\0", 1)[0]
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            return text.decode("latin-1")
    if typ == TY_WIDESTRING:
        return payload.decode("utf-16-le", errors="replace").split("\0", 1)[0]
    if typ == TY_FLOAT8ARRAY:
        if len(payload) % 8:
            raise PhotonFileError(
                f"tag '{key}' (Float8Array) payload of {len(payload)} bytes is not a multiple of 8",
                path=path, offset=offset)
        return list(struct.unpack(f"<{len(payload) // 8}d", payload))
    return bytes(payload)  # TY_BINARYBLOB


def encode_tag(ident: str, typ: int, value: Any, index: int = -1) -> bytes:
    """Encode one tag (and its payload, padded to a multiple of 8 bytes).

    Args:
        ident: tag name, at most 31 ASCII characters.
        typ: one of the ``TY_*`` type codes.
        value: Python value: None (Empty8), bool, int, float, datetime (TDateTime),
            sequence of floats (Float8Array), str (AnsiString / WideString), bytes (blob).
        index: array index, -1 for a plain tag.
    """
    name = ident.encode("ascii")
    if len(name) > 31:
        raise ValueError(f"tag ident {ident!r} longer than 31 characters")
    payload = b""
    if typ == TY_EMPTY8:
        field = struct.pack("<q", 0)
    elif typ == TY_BOOL8:
        field = struct.pack("<q", 1 if value else 0)
    elif typ in (TY_INT8, TY_BITSET64, TY_COLOR8):
        field = struct.pack("<q", int(value))
    elif typ == TY_FLOAT8:
        field = struct.pack("<d", float(value))
    elif typ == TY_TDATETIME:
        days = datetime_to_tdatetime(value) if isinstance(value, _dt.datetime) else float(value)
        field = struct.pack("<d", days)
    elif typ in _PAYLOAD_TYPES:
        if typ == TY_ANSISTRING:
            payload = str(value).encode("utf-8") + b"\0"
        elif typ == TY_WIDESTRING:
            payload = str(value).encode("utf-16-le") + b"\0\0"
        elif typ == TY_FLOAT8ARRAY:
            payload = struct.pack(f"<{len(value)}d", *[float(v) for v in value])
        else:
            payload = bytes(value)
        payload += b"\0" * (-len(payload) % 8)
        field = struct.pack("<q", len(payload))
    else:
        raise ValueError(f"unknown tag type code 0x{typ:08X}")
    return name.ljust(32, b"\0") + struct.pack("<iI", index, typ) + field + payload


def resolution_ps(seconds: Any, key: str, header: PtuHeader, path: str) -> float:
    """A resolution tag (seconds) as picoseconds; must lie in 1 fs .. 1 s."""
    ok = (not isinstance(seconds, bool) and isinstance(seconds, (int, float))
          and math.isfinite(seconds) and 1e-15 <= seconds <= 1.0)
    if not ok:
        where = header.tag_offsets.get(key, header.data_offset)
        what = "missing" if key not in header.tags else f"{seconds!r}"
        raise PhotonFileError(f"tag '{key}' must be a resolution between 1e-15 and 1 s, got "
                              f"{what}", path=path, offset=where)
    return float(seconds) * 1e12


def as_integer_ps(value_ps: float) -> int:
    """`value_ps` as an int if it is integral to 1 part in 1e9 (e.g. 1e-12 s * 1e12), else 0."""
    nearest = round(value_ps)
    if nearest >= 1 and abs(value_ps - nearest) <= 1e-9 * max(1.0, value_ps):
        return int(nearest)
    return 0
