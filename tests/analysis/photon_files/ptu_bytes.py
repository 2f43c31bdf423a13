"""Hand-built PTU bytes for tests (struct.pack only, independent of the code under test),
and a slow pure-Python reference decoder written straight from PicoQuant's TTTR record
format appendix (PicoQuant-Time-Tagged-File-Format-Demos, doc/apx_tttrrecords.html).
"""

from __future__ import annotations

import struct

import numpy as np

# Tag type codes, doc/apx_tagtypes.html.
EMPTY8 = 0xFFFF0008
BOOL8 = 0x00000008
INT8 = 0x10000008
BITSET64 = 0x11000008
COLOR8 = 0x12000008
FLOAT8 = 0x20000008
TDATETIME = 0x21000008
FLOAT8ARRAY = 0x2001FFFF
ANSISTRING = 0x4001FFFF
WIDESTRING = 0x4002FFFF
BINARYBLOB = 0xFFFFFFFF

# Record type codes, doc/apx_tttrrecords.html and the PTU demo readers.
RT = {
    "PicoHarpT2": 0x00010203,
    "PicoHarpT3": 0x00010303,
    "HydraHarpT2": 0x00010204,
    "HydraHarpT3": 0x00010304,
    "HydraHarp2T2": 0x01010204,
    "HydraHarp2T3": 0x01010304,
    "TimeHarp260NT2": 0x00010205,
    "TimeHarp260NT3": 0x00010305,
    "TimeHarp260PT2": 0x00010206,
    "TimeHarp260PT3": 0x00010306,
    "MultiHarpT2": 0x00010207,
    "MultiHarpT3": 0x00010307,
}


def tag_int(name: str, typ: int, value: int, idx: int = -1) -> bytes:
    return struct.pack("<32siIq", name.encode(), idx, typ, value)


def tag_float(name: str, typ: int, value: float, idx: int = -1) -> bytes:
    return struct.pack("<32siId", name.encode(), idx, typ, value)


def tag_payload(name: str, typ: int, payload: bytes, idx: int = -1) -> bytes:
    return struct.pack("<32siIq", name.encode(), idx, typ, len(payload)) + payload


def ptu_bytes(
    record_type: str,
    records,
    *,
    glob_res: float = 1e-12,
    res: float = 1e-12,
    n_records: int | None = None,
    extra: bytes = b"",
    sync_rate: int = 0,
) -> bytes:
    """A complete PTU file: magic, version, a few tags of several types, the records."""
    recs = np.asarray(records, dtype=np.uint32)
    tags = b"".join(
        [
            tag_payload("File_GUID", ANSISTRING, b"{abc}\0\0\0"),
            tag_int("Measurement_Mode", INT8, 2 if record_type.endswith("T2") else 3),
            tag_float("MeasDesc_GlobalResolution", FLOAT8, glob_res),
            tag_float("MeasDesc_Resolution", FLOAT8, res),
            tag_int("TTResult_SyncRate", INT8, sync_rate),
            tag_int("TTResultFormat_TTTRRecType", INT8, RT[record_type]),
            tag_int("TTResultFormat_BitsPerRecord", INT8, 32),
            tag_int(
                "TTResult_NumberOfRecords", INT8, len(recs) if n_records is None else n_records
            ),
            extra,
            tag_int("Header_End", EMPTY8, 0),
        ]
    )
    return b"PQTTTR\0\0" + b"1.0.00\0\0" + tags + recs.astype("<u4").tobytes()


# ------------------------------------------------------------------ record builders
def pq_t2(ch: int, t: int) -> int:
    return (ch << 28) | t


def pq_t3(ch: int, dtime: int, nsync: int) -> int:
    return (ch << 28) | (dtime << 16) | nsync


def hh_t2(special: int, ch: int, t: int) -> int:
    return (special << 31) | (ch << 25) | t


def hh_t3(special: int, ch: int, dtime: int, nsync: int) -> int:
    return (special << 31) | (ch << 25) | (dtime << 10) | nsync


# ------------------------------------------------------------------ reference decoder
def naive_decode(record_type: str, records, glob_ps: float, res_ps: float = 1.0):
    """Decode record by record; returns (ts_ps, channels, nsync, dtime_bins, markers, mch).

    T3 timestamps are returned in file order (unsorted). Raises ValueError on bad records.
    """
    ts, ch, ns, dt, mk, mch = [], [], [], [], [], []
    ofl = 0
    last = 0

    def in_order(tick: int) -> int:
        nonlocal last
        if tick < last:
            raise ValueError("order")
        last = tick
        return tick

    def t2_photon(tick: int, channel: int) -> None:
        ts.append(round(in_order(tick) * glob_ps))
        ch.append(channel)

    def t3_photon(sync: int, dtime: int, channel: int) -> None:
        ns.append(in_order(sync))
        dt.append(dtime)
        ts.append(round(sync * glob_ps + dtime * res_ps))
        ch.append(channel)

    for r in (int(x) for x in records):
        if record_type == "PicoHarpT2":
            c, t = r >> 28, r & 0x0FFFFFFF
            if c == 15:
                if t & 0xF == 0:
                    ofl += 210698240
                else:
                    mk.append(round((ofl + (t & ~0xF)) * glob_ps))
                    mch.append(t & 0xF)
                continue
            if c > 4:
                raise ValueError("channel")
            t2_photon(ofl + t, c)
        elif record_type == "PicoHarpT3":
            c, d, s = r >> 28, (r >> 16) & 0xFFF, r & 0xFFFF
            if c == 15:
                if d == 0:
                    ofl += 65536
                elif d <= 15:
                    mk.append(round((ofl + s) * glob_ps))
                    mch.append(d)
                else:
                    raise ValueError("special")
                continue
            if not 1 <= c <= 4:
                raise ValueError("channel")
            t3_photon(ofl + s, d, c)
        elif record_type.endswith("T2"):
            v1 = record_type == "HydraHarpT2"
            sp, c, t = r >> 31, (r >> 25) & 0x3F, r & 0x1FFFFFF
            if sp and c == 63:
                ofl += 33552000 if v1 else 33554432 * (t if t else 1)
                continue
            if sp and 1 <= c <= 15:
                mk.append(round((ofl + t) * glob_ps))
                mch.append(c)
                continue
            if sp and c != 0:
                raise ValueError("special")
            t2_photon(ofl + t, 0 if sp else c + 1)
        else:
            v1 = record_type == "HydraHarpT3"
            sp, c, d, s = r >> 31, (r >> 25) & 0x3F, (r >> 10) & 0x7FFF, r & 0x3FF
            if sp and c == 63:
                ofl += 1024 * (1 if (v1 or s == 0) else s)
                continue
            if sp:
                if not 1 <= c <= 15:
                    raise ValueError("special")
                mk.append(round((ofl + s) * glob_ps))
                mch.append(c)
                continue
            t3_photon(ofl + s, d, c + 1)
    return ts, ch, ns, dt, mk, mch
