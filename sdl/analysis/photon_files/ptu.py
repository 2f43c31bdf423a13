"""Read and write PicoQuant unified TTTR (.ptu) files, T2 and T3.

Supported record types (``TTResultFormat_TTTRRecType``; PicoQuant TTTR record-format
appendix): PicoHarpT2/T3, HydraHarpT2/T3 (V1), HydraHarp2T2/T3, TimeHarp260NT2/T3,
TimeHarp260PT2/T3, MultiHarpT2/T3 (= the "generic" types also written by PicoHarp 330).
Dispatch is on the full tag value; an unknown value is an error naming it and its T-mode
byte (bits 15..8: 2 = T2, 3 = T3).

Timestamps are int64 picoseconds:
    T2: (overflows x period + timetag) x MeasDesc_GlobalResolution.
    T3: (overflows x period + nsync) x MeasDesc_GlobalResolution (the sync period)
        + dtime x MeasDesc_Resolution.
When the resolutions are whole picoseconds the arithmetic is exact integer; otherwise it
is done in float64 and rounded to the nearest ps.

Validation (errors are `PhotonFileError`, naming the byte offset):
    T2 photon timestamps must not decrease; T3 photon sync indices must not decrease.
    T3 photons of one sync period may come out of time order (channel offsets); they are
    then stably sorted by timestamp together with nsync, dtime and channel.
    The file must hold exactly ``TTResult_NumberOfRecords`` records after the header.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
from typing import Any, BinaryIO

import numpy as np

from sdl.analysis.photon_files import ptu_format as fmt
from sdl.analysis.photon_files import ptu_kernels as k
from sdl.analysis.photon_files.data import PhotonData
from sdl.analysis.photon_files.errors import PhotonFileError

_ERR_TEXT = {
    k.ERR_TIME_DECREASES: "photon timestamp decreases (records must be in time order)",
    k.ERR_BAD_CHANNEL: "channel code not defined for this record type",
    k.ERR_BAD_SPECIAL: "special record is neither overflow, sync nor marker",
    k.ERR_NSYNC_DECREASES: "photon sync index decreases (records must be in time order)",
    k.ERR_RANGE: "overflow records push the time beyond 2**62 ps (corrupt overflow count?)",
}
_MIN_RES_PS = 1e-3  # 1 fs: below this a resolution tag is corrupt
_MAX_RES_PS = 1e12  # 1 s


def _max_ticks(unit_ps: float) -> int:
    """Largest tick count whose time in ps stays below 2**62 (headroom for adding fields)."""
    return int(2**62 // max(unit_ps, 1.0))


def _check_resolution(name: str, value_ps: float) -> None:
    if not (np.isfinite(value_ps) and _MIN_RES_PS <= value_ps <= _MAX_RES_PS):
        raise ValueError(f"{name} must be between {_MIN_RES_PS} and {_MAX_RES_PS:g} ps, "
                         f"got {value_ps}")


def read_ptu(path: str | os.PathLike[str]) -> PhotonData:
    """Read a PicoQuant .ptu T2 or T3 file.

    Args:
        path: file path.

    Returns:
        `PhotonData` with photons (markers separated out), resolutions in ps, the header
        tags as a dict and `record_type` set to the format name (e.g. "HydraHarp2T2").

    Raises:
        PhotonFileError: malformed, truncated or inconsistent file (message names the byte
            offset); also for unreadable files (OSError is wrapped).
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            return _read_stream(fh, size, name)
    except OSError as exc:
        raise PhotonFileError(f"cannot read PTU file: {exc.strerror or exc}", path=name) from exc


def decode_ptu_bytes(data: bytes, *, source: str = "<bytes>") -> PhotonData:
    """Decode a whole PTU file held in memory; same result and errors as `read_ptu`."""
    return _read_stream(io.BytesIO(data), len(data), source)


def _read_stream(fh: BinaryIO, size: int, path: str) -> PhotonData:
    header = fmt.read_header(fh, size, path)
    tags = header.tags
    rf = _record_format(header, path)
    n = _num_records(header, path)
    glob_ps = fmt.resolution_ps(tags.get(fmt.TAG_GLOBAL_RES), fmt.TAG_GLOBAL_RES, header, path)
    res_ps = glob_ps
    if rf.t_mode == 3:
        res_ps = fmt.resolution_ps(tags.get(fmt.TAG_RESOLUTION), fmt.TAG_RESOLUTION, header, path)
    need = 4 * n
    avail = size - header.data_offset
    if avail < need:
        raise PhotonFileError(
            f"file is truncated: header promises {n} records ({need} bytes) from byte "
            f"{header.data_offset}, but the file ends at byte {size} "
            f"({avail // 4} whole records)", path=path, offset=size)
    if avail > need:
        raise PhotonFileError(
            f"{avail - need} bytes after the last of the {n} records the header promises "
            f"(records end at byte {header.data_offset + need})", path=path,
            offset=header.data_offset + need)
    if isinstance(fh, io.BytesIO):
        buf = fh.getbuffer()
        records = np.frombuffer(buf, dtype="<u4", count=n, offset=header.data_offset).copy()
        del buf
    else:
        records = np.fromfile(fh, dtype="<u4", count=n)
    if records.shape[0] != n:
        raise PhotonFileError("file shrank while reading the records", path=path,
                              offset=header.data_offset + 4 * records.shape[0])
    if rf.t_mode == 2:
        data = decode_t2_records(records, rf.name, glob_ps, _offset_hook(header, path))
        data.sync_period_ps = _sync_period_from_rate(tags.get(fmt.TAG_SYNC_RATE))
    else:
        data = decode_t3_records(records, rf.name, glob_ps, res_ps, _offset_hook(header, path))
    data.header = tags
    return data


def _offset_hook(header: fmt.PtuHeader, path: str):
    def fail(index: int, message: str) -> PhotonFileError:
        return PhotonFileError(f"record {index}: {message}", path=path,
                               offset=header.data_offset + 4 * index)
    return fail


def _record_format(header: fmt.PtuHeader, path: str) -> fmt.RecordFormat:
    code = header.tags.get(fmt.TAG_RECORD_TYPE)
    if code is None:
        raise PhotonFileError(f"missing tag '{fmt.TAG_RECORD_TYPE}'", path=path,
                              offset=header.data_offset)
    if isinstance(code, bool) or not isinstance(code, int) or code not in fmt.FORMAT_BY_CODE:
        t_mode = (code >> 8) & 0xFF if isinstance(code, int) else None
        known = ", ".join(f"{f.name} 0x{f.code:08X}" for f in fmt.PRIMARY_FORMATS)
        shown = f"0x{code:08X}" if isinstance(code, int) and code >= 0 else repr(code)
        raise PhotonFileError(
            f"unsupported record type {shown} (T-mode byte {t_mode}); supported: {known}",
            path=path, offset=header.tag_offsets[fmt.TAG_RECORD_TYPE])
    return fmt.FORMAT_BY_CODE[code]


def _num_records(header: fmt.PtuHeader, path: str) -> int:
    n = header.tags.get(fmt.TAG_NUM_RECORDS)
    if n is None:
        raise PhotonFileError(f"missing tag '{fmt.TAG_NUM_RECORDS}'", path=path,
                              offset=header.data_offset)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise PhotonFileError(f"tag '{fmt.TAG_NUM_RECORDS}' must be a count >= 0, got {n!r}",
                              path=path, offset=header.tag_offsets[fmt.TAG_NUM_RECORDS])
    return n


def _sync_period_from_rate(rate: Any) -> int:
    if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0 and np.isfinite(rate):
        return int(round(1e12 / rate))
    return 0


def _default_fail(index: int, message: str) -> PhotonFileError:
    return PhotonFileError(f"record {index}: {message}", offset=4 * index)


def decode_t2_records(records: np.ndarray, record_type: str, resolution_ps: float,
                      fail=_default_fail) -> PhotonData:
    """Decode raw T2 records (no header) into a `PhotonData`.

    Args:
        records: shape (n,), uint32 TTTR records in file order.
        record_type: a T2 name from `ptu_format.RECORD_FORMATS` (e.g. "HydraHarp2T2").
        resolution_ps: timestamp unit (MeasDesc_GlobalResolution) in ps, > 0.
        fail: callable(record_index, message) -> exception, to name byte offsets.

    Raises:
        PhotonFileError: bad channel/special code or decreasing timestamps.
    """
    rf = _check_records(records, record_type, 2)
    _check_resolution("resolution_ps", resolution_ps)
    res_int = fmt.as_integer_ps(resolution_ps)
    max_ticks = _max_ticks(resolution_ps)
    out = k.decode_t2(records, rf.family != "pq_t2", rf.overflow_period, rf.count_overflows,
                      res_int, resolution_ps, max_ticks)
    ts, ch, mts, mch, nph, nmk, err, idx = out
    if err != k.ERR_NONE:
        raise fail(int(idx), _ERR_TEXT[err])
    return PhotonData(timestamps_ps=_trim(ts, nph), channels=_trim(ch, nph),
                      resolution_ps=resolution_ps, markers_ps=mts[:nmk].copy(),
                      marker_channels=mch[:nmk].copy(), record_type=rf.name)


def decode_t3_records(records: np.ndarray, record_type: str, sync_period_ps: float,
                      resolution_ps: float, fail=_default_fail) -> PhotonData:
    """Decode raw T3 records (no header) into a `PhotonData`.

    Args:
        records: shape (n,), uint32 TTTR records in file order.
        record_type: a T3 name from `ptu_format.RECORD_FORMATS` (e.g. "PicoHarpT3").
        sync_period_ps: sync period (MeasDesc_GlobalResolution) in ps, > 0.
        resolution_ps: dtime bin width (MeasDesc_Resolution) in ps, > 0.
        fail: callable(record_index, message) -> exception, to name byte offsets.

    Raises:
        PhotonFileError: bad channel/special code or decreasing sync index.
    """
    rf = _check_records(records, record_type, 3)
    _check_resolution("sync_period_ps", sync_period_ps)
    _check_resolution("resolution_ps", resolution_ps)
    sync_int = fmt.as_integer_ps(sync_period_ps)
    res_int = fmt.as_integer_ps(resolution_ps)
    max_ticks = _max_ticks(sync_period_ps)
    out = k.decode_t3(records, rf.family != "pq_t3", rf.overflow_period, rf.count_overflows,
                      sync_int, res_int, sync_period_ps, resolution_ps, max_ticks)
    ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, err, idx = out
    if err != k.ERR_NONE:
        raise fail(int(idx), _ERR_TEXT[err])
    ts, ns, dt, ch = _trim(ts, nph), _trim(ns, nph), _trim(dt, nph), _trim(ch, nph)
    if unsorted:
        order = np.argsort(ts, kind="stable")
        ts, ns, dt, ch = ts[order], ns[order], dt[order], ch[order]
    if res_int > 0:
        dtime_ps = dt * res_int
    else:
        dtime_ps = np.rint(dt * resolution_ps).astype(np.int64)
    return PhotonData(timestamps_ps=ts, channels=ch, sync_period_ps=int(round(sync_period_ps)),
                      resolution_ps=resolution_ps, nsync=ns, dtime_ps=dtime_ps,
                      markers_ps=mts[:nmk].copy(), marker_channels=mch[:nmk].copy(),
                      record_type=rf.name)


def _check_records(records: np.ndarray, record_type: str, t_mode: int) -> fmt.RecordFormat:
    if not isinstance(records, np.ndarray) or records.ndim != 1 or records.dtype != np.uint32:
        raise ValueError("records must be a 1-D uint32 numpy array")
    rf = fmt.RECORD_FORMATS.get(record_type)
    if rf is None or rf.t_mode != t_mode:
        names = [name for name, f in fmt.RECORD_FORMATS.items() if f.t_mode == t_mode]
        raise ValueError(f"record_type must be one of {names}, got {record_type!r}")
    return rf


def _trim(arr: np.ndarray, n: int) -> np.ndarray:
    """First `n` entries; copied when that frees more than half the buffer."""
    return arr[:n] if 2 * n >= arr.shape[0] else arr[:n].copy()


# --------------------------------------------------------------------------- writing


def write_ptu(
    path: str | os.PathLike[str],
    timestamps_ps: np.ndarray,
    channels: np.ndarray,
    *,
    record_type: str = "HydraHarp2T2",
    resolution_ps: float = 1.0,
    sync_period_ps: int = 0,
    markers_ps: np.ndarray | None = None,
    marker_channels: np.ndarray | None = None,
    nsync: np.ndarray | None = None,
    dtime_ps: np.ndarray | None = None,
    extra_tags: dict[str, Any] | None = None,
) -> int:
    """Write photons (and markers) as a PicoQuant .ptu file.

    Channel numbering follows `PhotonData`: Hydra-type records store channel c >= 1 as
    code c - 1 (1..64) and channel 0 as a time-tagged sync record (T2 only); PicoHarp
    records store the code itself (T2: 0..4, T3: 1..4).

    Args:
        path: output file (overwritten).
        timestamps_ps: shape (n,), int64, photon times in ps, non-decreasing. T2: each must
            be a whole multiple of `resolution_ps`. T3: used with `sync_period_ps` to derive
            nsync and dtime unless `nsync` and `dtime_ps` are given.
        channels: shape (n,), integer channel per photon (numbering above).
        record_type: any name in `ptu_format.RECORD_FORMATS`, e.g. "HydraHarp2T2",
            "PicoHarpT2", "MultiHarpT2", "HydraHarp2T3", "PicoHarpT3".
        resolution_ps: T2: timestamp unit in ps; T3: dtime bin width in ps. Written as
            MeasDesc_GlobalResolution (T2) or MeasDesc_Resolution (T3), in seconds.
        sync_period_ps: laser period in ps. T3: required (> 0), written as
            MeasDesc_GlobalResolution. T2: optional, written as TTResult_SyncRate.
        markers_ps: shape (m,), int64 marker times in ps (T2: multiples of the resolution;
            T3: multiples of the sync period).
        marker_channels: shape (m,), marker bit masks 1..15.
        nsync, dtime_ps: T3 only, shape (n,): explicit sync index and delay (ps, a whole
            multiple of `resolution_ps`) per photon; `timestamps_ps` is then not used.
        extra_tags: additional tags, name -> (type code, value) from `ptu_format`.

    Returns:
        Number of uint32 records written (photons + markers + overflow records).

    Raises:
        PhotonFileError: the data cannot be represented in the record type (unsorted,
            negative, not a multiple of the resolution, channel or dtime out of range).
    """
    rf = fmt.RECORD_FORMATS.get(record_type)
    if rf is None:
        raise PhotonFileError(f"unknown record_type {record_type!r}; choose one of "
                              f"{sorted(fmt.RECORD_FORMATS)}")
    if not (np.isfinite(resolution_ps) and resolution_ps > 0):
        raise PhotonFileError(f"resolution_ps must be > 0, got {resolution_ps}")
    ts = _int_array("timestamps_ps", timestamps_ps)
    chan = _int_array("channels", channels)
    if chan.shape != ts.shape:
        raise PhotonFileError(f"channels has {chan.shape[0]} entries, timestamps_ps {ts.shape[0]}")
    mk = _int_array("markers_ps", np.zeros(0, np.int64) if markers_ps is None else markers_ps)
    mkc = _int_array("marker_channels",
                     np.zeros(0, np.int64) if marker_channels is None else marker_channels)
    if mk.shape != mkc.shape:
        raise PhotonFileError(f"marker_channels has {mkc.shape[0]} entries, markers_ps {mk.shape[0]}")
    if mkc.size and (mkc.min() < 1 or mkc.max() > 15):
        raise PhotonFileError("marker_channels must be bit masks 1..15")
    if rf.t_mode == 2:
        records = _encode_t2_file(rf, ts, chan, mk, mkc, resolution_ps)
    else:
        records = _encode_t3_file(rf, ts, chan, mk, mkc, resolution_ps, sync_period_ps,
                                  nsync, dtime_ps)
    header = _build_header(rf, records.shape[0], resolution_ps, sync_period_ps, extra_tags)
    with open(os.fspath(path), "wb") as fh:
        fh.write(header)
        fh.write(records.astype("<u4", copy=False).tobytes())
    return int(records.shape[0])


def _int_array(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise PhotonFileError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise PhotonFileError(f"{name} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _to_units(name: str, values_ps: np.ndarray, unit_ps: float) -> np.ndarray:
    """`values_ps / unit_ps` as int64; error unless every value is a whole multiple."""
    unit_int = fmt.as_integer_ps(unit_ps)
    if unit_int > 0:
        units, rem = np.divmod(values_ps, unit_int)
        bad = np.flatnonzero(rem)
    else:
        units = np.rint(values_ps / unit_ps).astype(np.int64)
        bad = np.flatnonzero(np.abs(units * unit_ps - values_ps) > 0.5)
    if bad.size:
        i = int(bad[0])
        raise PhotonFileError(f"{name}[{i}] = {values_ps[i]} ps is not a whole multiple of "
                              f"{unit_ps} ps")
    return units


def _merge(t_ph, f_ph, kind_ph, t_mk, f_mk, d_ph=None):
    """Photons and markers in one time-sorted stream (photons first at equal time).

    Returns (time, field, kind, dtime); dtime is None unless `d_ph` (photon dtime) is given,
    markers get dtime 0.
    """
    t = np.concatenate([t_ph, t_mk])
    f = np.concatenate([f_ph, f_mk])
    kind = np.concatenate([kind_ph, np.full(t_mk.shape[0], k.KIND_MARKER, np.int8)])
    d = None if d_ph is None else np.concatenate([d_ph, np.zeros(t_mk.shape[0], np.int64)])
    if t_mk.size:
        order = np.argsort(t, kind="stable")
        t, f, kind = t[order], f[order], kind[order]
        d = None if d is None else d[order]
    return t, f, kind, d


def _channel_codes(rf: fmt.RecordFormat, chan: np.ndarray):
    """Hardware channel field and event kind for each photon; error if out of range."""
    if rf.family == "pq_t2":
        lo, hi = 0, 4
    elif rf.family == "pq_t3":
        lo, hi = 1, 4
    elif rf.family == "hh_t2":
        lo, hi = 0, 64
    else:
        lo, hi = 1, 64
    if chan.size and (chan.min() < lo or chan.max() > hi):
        i = int(np.flatnonzero((chan < lo) | (chan > hi))[0])
        raise PhotonFileError(f"channels[{i}] = {chan[i]} out of range {lo}..{hi} for {rf.name}")
    kind = np.zeros(chan.shape[0], np.int8)
    if rf.family.startswith("hh"):
        kind[chan == 0] = k.KIND_SYNC
        return np.maximum(chan - 1, 0), kind
    return chan, kind


def _check_sorted(name: str, values: np.ndarray) -> None:
    if values.size and values[0] < 0:
        raise PhotonFileError(f"{name}[0] = {values[0]} is negative")
    if values.size > 1:
        bad = np.flatnonzero(np.diff(values) < 0)
        if bad.size:
            i = int(bad[0]) + 1
            raise PhotonFileError(f"{name} must be non-decreasing: {name}[{i}] = {values[i]} < "
                                  f"{name}[{i - 1}] = {values[i - 1]}")


def _layout(rf: fmt.RecordFormat) -> tuple[int, int]:
    layout = 0 if rf.family.startswith("pq") else 1
    if layout == 0 or not rf.count_overflows:
        return layout, 0
    return layout, (1 << 25) - 1 if rf.t_mode == 2 else (1 << 10) - 1


def _run_encoder(encode, *args) -> np.ndarray:
    n = encode(*args, np.zeros(0, np.uint32), False)
    out = np.empty(n, np.uint32)
    encode(*args, out, True)
    return out


def _encode_t2_file(rf, ts, chan, mk, mkc, resolution_ps) -> np.ndarray:
    _check_sorted("timestamps_ps", ts)
    ticks = _to_units("timestamps_ps", ts, resolution_ps)
    field, kind = _channel_codes(rf, chan)
    mticks = _to_units("markers_ps", mk, resolution_ps)
    if mticks.size and mticks.min() < 0:
        raise PhotonFileError("markers_ps must be >= 0")
    t, f, kd, _ = _merge(ticks, field, kind, mticks, mkc)
    layout, count_max = _layout(rf)
    return _run_encoder(k._encode_t2, t, f, kd, layout, rf.overflow_period, count_max)


def _encode_t3_file(rf, ts, chan, mk, mkc, resolution_ps, sync_period_ps, nsync,
                    dtime_ps) -> np.ndarray:
    sync_period_ps = int(sync_period_ps)
    if sync_period_ps <= 0:
        raise PhotonFileError(f"{rf.name} needs sync_period_ps > 0, got {sync_period_ps}")
    if (nsync is None) != (dtime_ps is None):
        raise PhotonFileError("give both nsync and dtime_ps, or neither")
    if nsync is None:
        _check_sorted("timestamps_ps", ts)
        ns, dps = np.divmod(ts, sync_period_ps)
    else:
        ns = _int_array("nsync", nsync)
        dps = _int_array("dtime_ps", dtime_ps)
        if ns.shape != chan.shape or dps.shape != chan.shape:
            raise PhotonFileError("nsync and dtime_ps must have one entry per photon")
    _check_sorted("nsync", ns)
    dbins = _to_units("dtime_ps", dps, resolution_ps)
    dmax = 4095 if rf.family == "pq_t3" else 32767
    if dbins.size and (dbins.min() < 0 or dbins.max() > dmax):
        i = int(np.flatnonzero((dbins < 0) | (dbins > dmax))[0])
        raise PhotonFileError(f"dtime of photon {i} is {dbins[i]} bins, outside 0..{dmax} for "
                              f"{rf.name} (resolution {resolution_ps} ps)")
    field, kind = _channel_codes(rf, chan)
    mns = _to_units("markers_ps", mk, float(sync_period_ps))
    if mns.size and mns.min() < 0:
        raise PhotonFileError("markers_ps must be >= 0")
    s, f, kd, d = _merge(ns, field, kind, mns, mkc, dbins)
    layout, count_max = _layout(rf)
    return _run_encoder(k._encode_t3, s, d, f, kd, layout, rf.overflow_period, count_max)


def _build_header(rf: fmt.RecordFormat, n_records: int, resolution_ps: float,
                  sync_period_ps: int, extra_tags: dict[str, Any] | None) -> bytes:
    hw = {"pq": "PicoHarp", "hh": "HydraHarp"}[rf.family[:2]]
    for prefix in ("TimeHarp260N", "TimeHarp260P", "MultiHarp"):
        if rf.name.startswith(prefix):
            hw = prefix
    if rf.t_mode == 2:
        glob_s = resolution_ps * 1e-12
    else:
        glob_s = sync_period_ps * 1e-12
    tags: list[bytes] = [
        fmt.encode_tag("File_GUID", fmt.TY_ANSISTRING, "{00000000-0000-0000-0000-000000000000}"),
        fmt.encode_tag("File_CreatingTime", fmt.TY_TDATETIME,
                       _dt.datetime.now(_dt.UTC)),
        fmt.encode_tag("CreatorSW_Name", fmt.TY_ANSISTRING, "qd-sdl"),
        fmt.encode_tag("HW_Type", fmt.TY_ANSISTRING, hw),
        fmt.encode_tag("Measurement_Mode", fmt.TY_INT8, rf.t_mode),
        fmt.encode_tag("Measurement_SubMode", fmt.TY_INT8, 0),
        fmt.encode_tag(fmt.TAG_GLOBAL_RES, fmt.TY_FLOAT8, glob_s),
        fmt.encode_tag(fmt.TAG_RESOLUTION, fmt.TY_FLOAT8, resolution_ps * 1e-12),
        fmt.encode_tag(fmt.TAG_SYNC_RATE, fmt.TY_INT8,
                       int(round(1e12 / sync_period_ps)) if sync_period_ps > 0 else 0),
        fmt.encode_tag(fmt.TAG_RECORD_TYPE, fmt.TY_INT8, rf.code),
        fmt.encode_tag("TTResultFormat_BitsPerRecord", fmt.TY_INT8, 32),
        fmt.encode_tag(fmt.TAG_NUM_RECORDS, fmt.TY_INT8, n_records),
    ]
    for name, (typ, value) in (extra_tags or {}).items():
        tags.append(fmt.encode_tag(name, typ, value))
    tags.append(fmt.encode_tag(fmt.TAG_HEADER_END, fmt.TY_EMPTY8, None))
    return fmt.MAGIC + fmt.TAG_FORMAT_VERSION + b"".join(tags)
