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
def _grow(ts, ch, n):
    """Double the capacity of a marker buffer pair holding `n` entries."""
    new_ts = np.empty(2 * ts.shape[0] + 16, np.int64)
    new_ch = np.empty(2 * ts.shape[0] + 16, np.uint8)
    new_ts[:n] = ts[:n]
    new_ch[:n] = ch[:n]
    return new_ts, new_ch


@njit(cache=True)
def _ticks_to_ps(ticks, res_int, res_f):
    if res_int > 0:
        return ticks * res_int
    return np.int64(np.rint(ticks * res_f))


@njit(cache=True)
def _decode_pq_t2(records, period, res_int, res_f, max_ticks):
    """PicoHarp T2: bits 31..28 channel, 27..0 timetag; channel 15 = special.

    A special record whose low 4 timetag bits are 0 is one overflow of `period` ticks;
    otherwise those bits are markers and the marker time is the timetag with them cleared.
    Regular channel codes 0..4 are accepted.
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
        r = np.int64(records[i])
        c = r >> 28
        t = r & 0x0FFFFFFF
        if c == 15:
            bits = t & 0xF
            if bits == 0:
                ofl += period
                if ofl > max_ticks:
                    return ts, ch, mts, mch, nph, nmk, ERR_RANGE, i
                continue
            if nmk == mts.shape[0]:
                mts, mch = _grow(mts, mch, nmk)
            mts[nmk] = _ticks_to_ps(ofl + (t & 0x0FFFFFF0), res_int, res_f)
            mch[nmk] = bits
            nmk += 1
            continue
        if c > 4:
            return ts, ch, mts, mch, nph, nmk, ERR_BAD_CHANNEL, i
        ticks = ofl + t
        if ticks < last:
            return ts, ch, mts, mch, nph, nmk, ERR_TIME_DECREASES, i
        last = ticks
        ts[nph] = _ticks_to_ps(ticks, res_int, res_f)
        ch[nph] = c
        nph += 1
    return ts, ch, mts, mch, nph, nmk, ERR_NONE, -1


@njit(cache=True)
def _decode_hh_t2(records, period, count_overflows, res_int, res_f, max_ticks):
    """HydraHarp / TimeHarp 260 / MultiHarp T2: bit 31 special, 30..25 channel, 24..0 time.

    Special channel 63 is an overflow: with `count_overflows` the time field holds the
    number of overflows (0 read as one); otherwise (HydraHarp V1) it is exactly one.
    Special channel 0 is a time-tagged sync (reported as channel 0), 1..15 are markers.
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
        r = np.int64(records[i])
        t = r & 0x1FFFFFF
        c = (r >> 25) & 0x3F
        if r >= 0x80000000:
            if c == 63:
                if count_overflows and t > 0:
                    ofl += period * t
                else:
                    ofl += period
                if ofl > max_ticks:
                    return ts, ch, mts, mch, nph, nmk, ERR_RANGE, i
                continue
            if c == 0:
                out_c = 0
            elif c <= 15:
                if nmk == mts.shape[0]:
                    mts, mch = _grow(mts, mch, nmk)
                mts[nmk] = _ticks_to_ps(ofl + t, res_int, res_f)
                mch[nmk] = c
                nmk += 1
                continue
            else:
                return ts, ch, mts, mch, nph, nmk, ERR_BAD_SPECIAL, i
        else:
            out_c = c + 1
        ticks = ofl + t
        if ticks < last:
            return ts, ch, mts, mch, nph, nmk, ERR_TIME_DECREASES, i
        last = ticks
        ts[nph] = _ticks_to_ps(ticks, res_int, res_f)
        ch[nph] = out_c
        nph += 1
    return ts, ch, mts, mch, nph, nmk, ERR_NONE, -1


@njit(cache=True)
def _t3_time_ps(nsync, dtime, period_int, res_int, period_f, res_f):
    if period_int > 0 and res_int > 0:
        return nsync * period_int + dtime * res_int
    return np.int64(np.rint(nsync * period_f + dtime * res_f))


@njit(cache=True)
def _decode_pq_t3(records, period, sync_int, res_int, sync_f, res_f, max_ticks):
    """PicoHarp T3: bits 31..28 channel, 27..16 dtime, 15..0 nsync; channel 15 = special.

    A special record with dtime 0 is one overflow of `period` syncs; dtime 1..15 are
    marker bits. Regular channel codes 1..4 are accepted. Returns also nsync, dtime and
    whether the ps timestamps came out unsorted (possible within one sync period).
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
        r = np.int64(records[i])
        c = r >> 28
        d = (r >> 16) & 0xFFF
        s = r & 0xFFFF
        if c == 15:
            if d == 0:
                ofl += period
                if ofl > max_ticks:
                    return ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, ERR_RANGE, i
                continue
            if d > 15:
                return ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, ERR_BAD_SPECIAL, i
            if nmk == mts.shape[0]:
                mts, mch = _grow(mts, mch, nmk)
            mts[nmk] = _t3_time_ps(ofl + s, 0, sync_int, res_int, sync_f, res_f)
            mch[nmk] = d
            nmk += 1
            continue
        if c < 1 or c > 4:
            return ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, ERR_BAD_CHANNEL, i
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
def _decode_hh_t3(records, period, count_overflows, sync_int, res_int, sync_f, res_f, max_ticks):
    """Hydra-type T3: bit 31 special, 30..25 channel, 24..10 dtime, 9..0 nsync.

    Special channel 63 is an overflow (count in nsync with `count_overflows`, 0 read as
    one; exactly one for HydraHarp V1); 1..15 are markers. Regular code c -> channel c+1.
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
        r = np.int64(records[i])
        c = (r >> 25) & 0x3F
        d = (r >> 10) & 0x7FFF
        s = r & 0x3FF
        if r >= 0x80000000:
            if c == 63:
                if count_overflows and s > 0:
                    ofl += period * s
                else:
                    ofl += period
                if ofl > max_ticks:
                    return ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, ERR_RANGE, i
                continue
            if c < 1 or c > 15:
                return ts, ns, dt, ch, mts, mch, nph, nmk, unsorted, ERR_BAD_SPECIAL, i
            if nmk == mts.shape[0]:
                mts, mch = _grow(mts, mch, nmk)
            mts[nmk] = _t3_time_ps(ofl + s, 0, sync_int, res_int, sync_f, res_f)
            mch[nmk] = c
            nmk += 1
            continue
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
        ch[nph] = c + 1
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
    pos = 0
    k_cur = np.int64(0)
    for i in range(ticks.shape[0]):
        k = ticks[i] // period
        if k > k_cur:
            pos = _overflow_records(layout, k - k_cur, count_max, out, pos, write)
            k_cur = k
        t = ticks[i] - k * period
        if write:
            if layout == 0:
                if kind[i] == KIND_MARKER:
                    out[pos] = _PQ_SPECIAL | (t & 0x0FFFFFF0) | field[i]
                else:
                    out[pos] = (field[i] << 28) | t
            else:
                if kind[i] == KIND_PHOTON:
                    out[pos] = (field[i] << 25) | t
                elif kind[i] == KIND_SYNC:
                    out[pos] = 0x80000000 | t
                else:
                    out[pos] = 0x80000000 | (field[i] << 25) | t
        pos += 1
    return pos


@njit(cache=True)
def _encode_t3(nsync, dtime, field, kind, layout, period, count_max, out, write):
    """Encode sync-sorted T3 events into records; returns the record count.

    Args:
        nsync: int64 (n,), sync index of each event, non-decreasing, >= 0.
        dtime: int64 (n,), delay in dtime bins (photons; ignored for markers).
        field, kind, layout, period, count_max, out, write: as `_encode_t2` (no syncs).
    """
    pos = 0
    k_cur = np.int64(0)
    for i in range(nsync.shape[0]):
        k = nsync[i] // period
        if k > k_cur:
            pos = _overflow_records(layout, k - k_cur, count_max, out, pos, write)
            k_cur = k
        s = nsync[i] - k * period
        if write:
            if layout == 0:
                if kind[i] == KIND_MARKER:
                    out[pos] = _PQ_SPECIAL | (field[i] << 16) | s
                else:
                    out[pos] = (field[i] << 28) | (dtime[i] << 16) | s
            else:
                if kind[i] == KIND_MARKER:
                    out[pos] = 0x80000000 | (field[i] << 25) | s
                else:
                    out[pos] = (field[i] << 25) | (dtime[i] << 10) | s
        pos += 1
    return pos
