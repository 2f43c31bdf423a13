"""numba kernels: PicoQuant TTTR uint32 records <-> timestamps, channels and markers.

Private kernels only; `ptu.py` validates and calls them. Bit layouts and overflow rules
are from PicoQuant's TTTR record-format appendix (``doc/apx_tttrrecords.html`` in
PicoQuant-Time-Tagged-File-Format-Demos); see `ptu_format.RecordFormat`.

Decoders take `max_ticks`, the largest overflow-corrected time (T2 ticks / T3 syncs) whose
ps value fits int64 with headroom, so a corrupt overflow count is an error, never a
wrapped integer. They return ``(photons..., markers..., n_photons, n_markers, err,
err_index)``; the
photon arrays have one slot per record and only the first ``n_photons`` are valid.
`err` is one of the ``ERR_*`` codes below and `err_index` the offending record.

Channel numbering: PicoHarp records keep their 4-bit channel code; Hydra-type regular
records report 6-bit code c as channel c + 1 and time-tagged sync records as channel 0.
Markers carry their bit mask (1..15).
"""

from __future__ import annotations

import numpy as np
from numba import njit

ERR_NONE = 0
ERR_TIME_DECREASES = 1  # T2 photon timestamp smaller than the previous one
ERR_BAD_CHANNEL = 2  # channel code the record type does not define
ERR_BAD_SPECIAL = 3  # special record that is neither overflow, sync nor marker
ERR_NSYNC_DECREASES = 4  # T3 photon sync index smaller than the previous one
ERR_RANGE = 5  # overflow count drives the time past `max_ticks` (int64 ps range)

KIND_PHOTON = 0
KIND_SYNC = 1
KIND_MARKER = 2

_HH_OVERFLOW = 0xFE000000  # special bit + channel 63
_PQ_SPECIAL = 0xF0000000  # channel code 15


@njit(cache=True)
def _add_marker(ts, ch, n, t_ps, c):
    """Append marker (t_ps, c) to a buffer pair holding `n` entries, doubling its capacity
    when full. Returns (ts, ch, n + 1)."""
    if n == ts.shape[0]:
        new_ts = np.empty(2 * n + 16, np.int64)
        new_ch = np.empty(2 * n + 16, np.uint8)
        new_ts[:n] = ts[:n]
        new_ch[:n] = ch[:n]
        ts, ch = new_ts, new_ch
    ts[n] = t_ps
    ch[n] = c
    return ts, ch, n + 1


@njit(cache=True)
def _ticks_to_ps(ticks, res_int, res_f):
    if res_int > 0:
        return ticks * res_int
    return np.int64(np.rint(ticks * res_f))


# What one record is (`_record`), shared by the four decoders.
REC_PHOTON = 0
REC_OVERFLOW = 1
REC_MARKER = 2
REC_BAD_CHANNEL = 3
REC_BAD_SPECIAL = 4


@njit(cache=True)
def _record(r, hydra, t3, count_overflows):
    """Split one 32-bit TTTR record of a family into (what, channel, time, dtime, n).

    PicoHarp (`hydra` False): bits 31..28 channel code, 15 = special; T2: 27..0 timetag,
    a special with low 4 bits 0 is one overflow, else those bits are markers (time with
    them cleared); T3: 27..16 dtime, 15..0 nsync, special dtime 0 = one overflow, 1..15
    markers. Detector codes: T2 0..4, T3 1..4, reported as is.
    Hydra-type (HydraHarp / TimeHarp 260 / MultiHarp): bit 31 special, 30..25 channel;
    T2: 24..0 time, T3: 24..10 dtime, 9..0 nsync. Special 63 is an overflow (the count in
    the time/nsync field with `count_overflows`, 0 read as one; exactly one for HydraHarp
    V1); special 0 in T2 is a time-tagged sync (photon on channel 0); 1..15 are markers.
    Detector code c is reported as channel c + 1.

    Returns:
        (what: REC_*, channel, time field (ticks or nsync), dtime, overflow count).
    """
    if hydra:
        c = (r >> 25) & 0x3F
        if t3:
            d = (r >> 10) & 0x7FFF
            t = r & 0x3FF
        else:
            d = np.int64(0)
            t = r & 0x1FFFFFF
        if r >= 0x80000000:
            if c == 63:
                n = t if (count_overflows and t > 0) else np.int64(1)
                return REC_OVERFLOW, c, t, d, n
            if c == 0 and not t3:
                return REC_PHOTON, c, t, d, np.int64(0)
            if c < 1 or c > 15:
                return REC_BAD_SPECIAL, c, t, d, np.int64(0)
            return REC_MARKER, c, t, d, np.int64(0)
        return REC_PHOTON, c + 1, t, d, np.int64(0)
    c = r >> 28
    if t3:
        d = (r >> 16) & 0xFFF
        t = r & 0xFFFF
        if c == 15:
            if d == 0:
                return REC_OVERFLOW, c, t, d, np.int64(1)
            if d > 15:
                return REC_BAD_SPECIAL, c, t, d, np.int64(0)
            return REC_MARKER, d, t, d, np.int64(0)
        if c < 1 or c > 4:
            return REC_BAD_CHANNEL, c, t, d, np.int64(0)
        return REC_PHOTON, c, t, d, np.int64(0)
    t = r & 0x0FFFFFFF
    if c == 15:
        if (t & 0xF) == 0:
            return REC_OVERFLOW, c, t, np.int64(0), np.int64(1)
        return REC_MARKER, t & 0xF, t & 0x0FFFFFF0, np.int64(0), np.int64(0)
    if c > 4:
        return REC_BAD_CHANNEL, c, t, np.int64(0), np.int64(0)
    return REC_PHOTON, c, t, np.int64(0), np.int64(0)


@njit(cache=True)
def _record_error(what):
    return ERR_BAD_CHANNEL if what == REC_BAD_CHANNEL else ERR_BAD_SPECIAL


@njit(cache=True)
def decode_t2(records, hydra, period, count_overflows, res_int, res_f, max_ticks):
    """T2 records (either family, see `_record`) -> photon times (ps), channels, markers.

    Returns:
        (ts, ch, marker_ts, marker_ch, n_photons, n_markers, error code, record index).
    """
    n = records.shape[0]
    ts = np.empty(n, np.int64)
    ch = np.empty(n, np.uint8)
    mts = np.empty(16, np.int64)
    mch = np.empty(16, np.uint8)
    ofl = np.int64(0)
    last = np.int64(0)
    nph = 0
    nmk = 0
    for i in range(n):
        what, c, t, _, k = _record(np.int64(records[i]), hydra, False, count_overflows)
        if what == REC_OVERFLOW:
            ofl += period * k
            if ofl > max_ticks:
                return ts, ch, mts, mch, nph, nmk, ERR_RANGE, i
            continue
        if what == REC_MARKER:
            mts, mch, nmk = _add_marker(mts, mch, nmk, _ticks_to_ps(ofl + t, res_int, res_f), c)
            continue
        if what != REC_PHOTON:
            return ts, ch, mts, mch, nph, nmk, _record_error(what), i
        ticks = ofl + t
        if ticks < last:
            return ts, ch, mts, mch, nph, nmk, ERR_TIME_DECREASES, i
        last = ticks
        ts[nph] = _ticks_to_ps(ticks, res_int, res_f)
        ch[nph] = c
        nph += 1
    return ts, ch, mts, mch, nph, nmk, ERR_NONE, -1


@njit(cache=True)
def _t3_time_ps(nsync, dtime, period_int, res_int, period_f, res_f):
    if period_int > 0 and res_int > 0:
        return nsync * period_int + dtime * res_int
    return np.int64(np.rint(nsync * period_f + dtime * res_f))


@njit(cache=True)
def decode_t3(records, hydra, period, count_overflows, sync_int, res_int, sync_f, res_f,
              max_ticks):
    """T3 records (either family, see `_record`) -> photon times (ps), nsync, dtime bins,
    channels, markers, and whether the ps times came out unsorted (possible within one
    sync period).

    Returns:
        (ts, nsync, dtime, ch, marker_ts, marker_ch, n_photons, n_markers, unsorted,
        error code, record index).
    """
    n = records.shape[0]
    ts = np.empty(n, np.int64)
    ns = np.empty(n, np.int64)
    dt = np.empty(n, np.int64)
    ch = np.empty(n, np.uint8)
    mts = np.empty(16, np.int64)
    mch = np.empty(16, np.uint8)
    ofl = np.int64(0)
    last_ns = np.int64(0)
    last_ts = np.int64(-(2**62))
    unsorted = False
    nph = 0
    nmk = 0
    for i in range(n):
        what, c, s, d, k = _record(np.int64(records[i]), hydra, True, count_overflows)
        if what == REC_OVERFLOW:
            ofl += period * k
            if ofl > max_ticks:
                return ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, ERR_RANGE, i
            continue
        if what == REC_MARKER:
            t_ps = _t3_time_ps(ofl + s, 0, sync_int, res_int, sync_f, res_f)
            mts, mch, nmk = _add_marker(mts, mch, nmk, t_ps, c)
            continue
        if what != REC_PHOTON:
            return ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, _record_error(what), i
        nsync = ofl + s
        if nsync < last_ns:
            return ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, ERR_NSYNC_DECREASES, i
        last_ns = nsync
        t = _t3_time_ps(nsync, d, sync_int, res_int, sync_f, res_f)
        if t < last_ts:
            unsorted = True
        last_ts = t
        ts[nph] = t
        ns[nph] = nsync
        dt[nph] = d
        ch[nph] = c
        nph += 1
    return ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, ERR_NONE, -1


@njit(cache=True)
def _overflow_records(layout, delta, count_max, out, pos, write):
    """Emit overflow records for `delta` wrap periods; return the new position.

    layout 0 = PicoHarp (one overflow per record), 1 = Hydra-type (count in the low
    field up to `count_max`, or one per record when `count_max` == 0).
    """
    while delta > 0:
        if layout == 0:
            if write:
                out[pos] = _PQ_SPECIAL
            delta -= 1
        elif count_max > 0:
            m = min(delta, count_max)
            if write:
                out[pos] = _HH_OVERFLOW | m
            delta -= m
        else:
            if write:
                out[pos] = _HH_OVERFLOW
            delta -= 1
        pos += 1
    return pos


@njit(cache=True)
def _t2_word(t, field, kind, layout):
    """One T2 record word: `t` ticks into the overflow period; field, kind, layout as
    `_encode_t2`."""
    if layout == 0:
        if kind == KIND_MARKER:
            return _PQ_SPECIAL | (t & 0x0FFFFFF0) | field
        return (field << 28) | t
    if kind == KIND_PHOTON:
        return (field << 25) | t
    if kind == KIND_SYNC:
        return 0x80000000 | t
    return 0x80000000 | (field << 25) | t


@njit(cache=True)
def _t3_word(s, dtime, field, kind, layout):
    """One T3 record word: `s` syncs into the overflow period, `dtime` bins after it."""
    if layout == 0:
        if kind == KIND_MARKER:
            return _PQ_SPECIAL | (field << 16) | s
        return (field << 28) | (dtime << 16) | s
    if kind == KIND_MARKER:
        return 0x80000000 | (field << 25) | s
    return (field << 25) | (dtime << 10) | s


@njit(cache=True)
def _encode(times, dtime, field, kind, layout, t3, period, count_max, out, write):
    """Encode time-sorted events into T2 (`t3` False; `dtime` unused) or T3 records with
    overflow records between them; returns the record count. Arguments as `_encode_t2`
    and `_encode_t3`."""
    pos = 0
    k_cur = np.int64(0)
    for i in range(times.shape[0]):
        k = times[i] // period
        if k > k_cur:
            pos = _overflow_records(layout, k - k_cur, count_max, out, pos, write)
            k_cur = k
        r = times[i] - k * period
        if write:
            if t3:
                out[pos] = _t3_word(r, dtime[i], field[i], kind[i], layout)
            else:
                out[pos] = _t2_word(r, field[i], kind[i], layout)
        pos += 1
    return pos


@njit(cache=True)
def _encode_t2(ticks, field, kind, layout, period, count_max, out, write):
    """Encode time-sorted T2 events into records; returns the record count.

    Args:
        ticks: int64 (n,), event times in timestamp units, non-decreasing, >= 0.
        field: int64 (n,), hardware channel code (photon) or marker bit mask (marker).
        kind: int8 (n,), KIND_PHOTON / KIND_SYNC (Hydra only) / KIND_MARKER.
        layout: 0 PicoHarp T2, 1 Hydra-type T2.
        period: overflow period in ticks; count_max: see `_overflow_records`.
        out: uint32 output buffer (ignored unless `write`).
        write: False for a counting pass, True to fill `out`.
    """
    return _encode(ticks, ticks, field, kind, layout, False, period, count_max, out, write)


@njit(cache=True)
def _encode_t3(nsync, dtime, field, kind, layout, period, count_max, out, write):
    """Encode sync-sorted T3 events into records; returns the record count.

    Args:
        nsync: int64 (n,), sync index of each event, non-decreasing, >= 0.
        dtime: int64 (n,), delay in dtime bins (photons; ignored for markers).
        field, kind, layout, period, count_max, out, write: as `_encode_t2` (no syncs).
    """
    return _encode(nsync, dtime, field, kind, layout, True, period, count_max, out, write)
