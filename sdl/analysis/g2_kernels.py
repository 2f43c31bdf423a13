"""Coincidence histograms of two time-tag streams (the numba core of g2).

`cross_correlation_counts(t1, t2, edges_ps)` counts every pair (i, j) whose delay
`t2[j] - t1[i]` falls in `[edges[k], edges[k+1])`, for arbitrary strictly increasing
integer edges (linear, logarithmic, negative and positive delays). It never builds pair
lists, never uses start-stop shortcuts (every pair counts, not only the next photon) and
keeps no finite look-back buffer: all counts are exact.

Algorithm (sliding window, two pointers). Both streams are sorted, so for photon `t1[i]`
the index of the first `t2[j] >= t1[i] + e` is non-decreasing in `i` for every fixed edge
`e`. The kernel keeps such pointers for the outer edges of a "narrow" middle region of
bins and walks the pairs inside it; the bin of a pair is `(dt - e_a) // w` for uniform
bins, and otherwise a lookup table over cells no wider than the narrowest bin followed by
an exact comparison with the neighbouring edges. For uniform bins the window start is
found by a branch-free merge (4 elements of look-ahead per step). Bins wide enough to hold several pairs per photon
(the outer bins of a log scale) instead get a pointer per edge and add
`p[k+1] - p[k]` each step, so no pair is visited one by one where that would be slower.
Cost: O(N1 + N2 + pairs in narrow bins + N1 * number of wide bins); for linear bins it is
exactly O(N1 + N2 + pairs).

The parallel variant splits `t1` into contiguous chunks, initialises each chunk's pointers
with a binary search, fills one histogram row per chunk (numba `prange`) and sums the rows:
the result is identical to the serial one.

Compiled lazily on first call (`cache=True`); importing this module compiles nothing.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import config as numba_config
from numba.extending import intrinsic

__all__ = ["cross_correlation_counts", "linear_edges", "log_edges", "is_uniform"]

# A bin is "wide" (pointer per edge) when it is expected to hold more than this many
# pairs per start photon; below, pairs are walked one by one.
_WIDE_PAIRS_PER_BIN = 4.0


@njit(cache=True)
def _first_geq(a, x, lo):
    """Smallest index j >= lo with a[j] >= x (len(a) if none), by galloping search."""
    n = a.shape[0]
    if lo >= n or a[lo] >= x:
        return lo
    # a[lo] < x: gallop
    step = 1
    base = lo
    while base + step < n and a[base + step] < x:
        base += step
        step *= 2
    hi = base + step
    if hi > n:
        hi = n
    # a[base] < x, and hi == n or a[hi] >= x
    while hi - base > 1:
        mid = (base + hi) >> 1
        if a[mid] < x:
            base = mid
        else:
            hi = mid
    return hi


# start photons per block of the branch-free window search
_BLOCK = 2048
# largest uniform-grid bin-lookup table of the general kernel (cells; 64 kB of int32)
_MAX_LUT = 1 << 14
# cells per octave of the log-linear lookup tables
_LOG_BITS = 5
_LOG_SUB = 1 << _LOG_BITS


@njit(cache=True)
def _uniform_range(t1, t2, start, width, nbins, i0, i1, counts):
    """Linear bins: counts[k] += #{(i, j): start + k w <= t2[j] - t1[i] < start + (k+1) w}.

    Only start photons i0 <= i < i1 are used. Per block of start photons, a branch-free
    merge finds `lo_i` (first t2 >= t1[i] + start), looking 4 elements of t2 ahead per
    step, and records only the photons whose window holds a t2 photon; their pairs are
    then walked. Equivalent to the textbook two-pointer loop, without its unpredictable
    branches (which dominate at the ~0.1 pairs per photon of a real HBT stream).
    """
    n2 = t2.shape[0]
    if i0 >= i1 or n2 == 0:
        return
    stop = start + nbins * width
    lo = _first_geq(t2, t1[i0] + start, 0)
    # photons with t1[i] + start <= t2[n2 - 4] never move lo beyond n2 - 4: no bound checks
    i_safe = i0
    if n2 >= 4:
        i_safe = i0 + _first_geq(t1[i0:i1], t2[n2 - 4] - start + 1, 0)
    bi = np.empty(_BLOCK, dtype=np.int64)
    bj = np.empty(_BLOCK, dtype=np.int64)
    i = i0
    while i < i_safe:
        iend = min(i + _BLOCK, i_safe)
        k = i
        m = 0
        while k < iend:
            a = t1[k] + start
            c1 = np.int64(t2[lo] < a)
            c2 = np.int64(t2[lo + 1] < a)
            c3 = np.int64(t2[lo + 2] < a)
            c4 = np.int64(t2[lo + 3] < a)
            nl = lo + c1 + c2 + c3
            done = 1 - c4
            # lo is final for k (done) and the window [a, a + (stop - start)) is not empty
            h = np.int64(t2[nl] < a - start + stop) & done
            bi[m] = k
            bj[m] = nl
            m += h
            lo = nl + c4
            k += done
        for q in range(m):
            k = bi[q]
            j = bj[q]
            base = t1[k] + start
            b = t1[k] + stop
            while j < n2 and t2[j] < b:
                counts[(t2[j] - base) // width] += 1
                j += 1
        i = iend
    # tail (last few t2 photons in reach): plain two-pointer loop
    for k in range(i_safe, i1):
        a = t1[k] + start
        while lo < n2 and t2[lo] < a:
            lo += 1
        b = t1[k] + stop
        j = lo
        while j < n2 and t2[j] < b:
            counts[(t2[j] - a) // width] += 1
            j += 1


@njit(cache=True)
def _build_lut(edges, ka, kb, cell):
    """Grid table: lut[c] = bin (ka..kb-1) holding the delay edges[ka] + c * cell."""
    e0 = edges[ka]
    n = (edges[kb] - e0 + cell - 1) // cell
    lut = np.empty(n, dtype=np.int32)
    k = ka
    for c in range(n):
        x = e0 + c * cell
        while k < kb - 1 and edges[k + 1] <= x:
            k += 1
        lut[c] = k
    return lut


def _clz64_py(x):
    """Pure-Python leading-zero count (used when numba's JIT is disabled, for coverage)."""
    return 64 - int(x).bit_length() if x >= 0 else 0


@intrinsic
def _clz64(typingctx, x):
    """Count of leading zero bits of an int64 (LLVM ctlz; 64 for 0)."""
    sig = types.int64(types.int64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fnty = ir.FunctionType(i64, [i64, ir.IntType(1)])
        fn = builder.module.declare_intrinsic("llvm.ctlz", [i64], fnty)
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 0)])

    return sig, codegen


if numba_config.DISABLE_JIT:  # intrinsics only exist in compiled code
    _clz64 = _clz64_py  # noqa: F811


@njit(cache=True)
def _log_cell(v):
    """Log-linear cell of an integer v >= 0 (_LOG_SUB = 2^_LOG_BITS cells per octave).

    0 for v = 0; else with bit length e (2^(e-1) <= v < 2^e) and the next _LOG_BITS bits
    s after the leading one, `1 + (e - 1) * _LOG_SUB + s`.
    """
    if v <= 0:
        return 0
    e1 = 63 - _clz64(v)  # e - 1, >= 0
    if e1 >= _LOG_BITS:
        sub = (v >> (e1 - _LOG_BITS)) & (_LOG_SUB - 1)
    else:
        sub = (v << (_LOG_BITS - e1)) & (_LOG_SUB - 1)
    return 1 + e1 * _LOG_SUB + sub


@njit(cache=True)
def _build_log_luts(edges, ka, kb, centre):
    """Log-linear tables around `centre` (an edge): bins of delays centre + v (pos) and
    centre - 1 - v (neg), v >= 0, evaluated at the smallest integer v of each cell (cells
    no integer falls in are never looked up)."""
    ncell = 1 + 64 * _LOG_SUB
    pos = np.empty(ncell, dtype=np.int32)
    neg = np.empty(ncell, dtype=np.int32)
    for q in range(ncell):
        if q == 0:
            vlo = 0
        else:
            e1 = (q - 1) // _LOG_SUB
            sub = (q - 1) % _LOG_SUB
            if e1 >= 62:
                vlo = np.int64(1) << 62
            elif e1 >= _LOG_BITS:
                vlo = (_LOG_SUB + sub) << (e1 - _LOG_BITS)
            else:
                sh = _LOG_BITS - e1
                vlo = (_LOG_SUB + sub + (1 << sh) - 1) >> sh
        for side in range(2):
            x = centre + vlo if side == 0 else centre - 1 - vlo
            if x < edges[ka]:
                k = ka
            elif x >= edges[kb]:
                k = kb - 1
            else:
                lo_ = ka
                hi_ = kb
                while hi_ - lo_ > 1:
                    mid = (lo_ + hi_) >> 1
                    if edges[mid] <= x:
                        lo_ = mid
                    else:
                        hi_ = mid
                k = lo_
            if side == 0:
                pos[q] = k
            else:
                neg[q] = k
    return pos, neg


@njit(cache=True)
def _advance_pointers(p, k0, k1, t, edges, t2, lower):
    """Move each pointer p[k], k0 <= k < k1, to the first j with t2[j] >= t + edges[k]
    (never below the previous pointer, starting from `lower`); returns the last one."""
    n2 = t2.shape[0]
    for k in range(k0, k1):
        j = p[k]
        if j < lower:
            j = lower
        x = t + edges[k]
        while j < n2 and t2[j] < x:
            j += 1
        p[k] = j
        lower = j
    return lower


@njit(cache=True)
def _general_range(t1, t2, edges, ka, kb, use_log, lut, cell, lpos, lneg, centre, i0, i1, counts):
    """Arbitrary edges. Bins ka..kb-1 are walked pair by pair, the others by pointers.

    counts[k] += #{(i, j): edges[k] <= t2[j] - t1[i] < edges[k+1]}, i0 <= i < i1.
    A pair's bin comes from a small lookup table (a uniform grid `lut` of `cell` ps, or
    log-linear tables around `centre` when `use_log`), then exact comparisons with the
    neighbouring edges move it to the right bin.
    """
    nb = edges.shape[0] - 1
    if i0 >= i1:
        return
    e_a = edges[ka]
    inv = 1.0 / cell
    nlut = lut.shape[0]
    nlog = lpos.shape[0]
    lboth = np.concatenate((lpos, lneg))
    # pointers for every edge outside the narrow region, plus its two bounding edges
    p = np.zeros(nb + 1, dtype=np.int64)
    prev = 0
    for k in range(nb + 1):
        if k <= ka or k >= kb:
            prev = _first_geq(t2, t1[i0] + edges[k], prev)
            p[k] = prev
    for i in range(i0, i1):
        t = t1[i]
        lower = _advance_pointers(p, 0, ka + 1, t, edges, t2, 0)
        _advance_pointers(p, kb, nb + 1, t, edges, t2, lower)
        for k in range(0, ka):
            counts[k] += p[k + 1] - p[k]
        for k in range(kb, nb):
            counts[k] += p[k + 1] - p[k]
        for j in range(p[ka], p[kb]):
            dt = t2[j] - t
            if use_log:
                # fold negative offsets without a branch: v < 0 -> -v - 1, second table
                v = dt - centre
                sg = v >> 63
                k = lboth[_log_cell(v ^ sg) + (sg & nlog)]
            else:
                c = np.int64((dt - e_a) * inv)
                if c < 0:
                    c = 0
                elif c >= nlut:
                    c = nlut - 1
                k = lut[c]
            while edges[k] > dt:
                k -= 1
            while edges[k + 1] <= dt:
                k += 1
            counts[k] += 1


@njit(cache=True)
def _uniform_serial(t1, t2, start, width, nbins):
    counts = np.zeros(nbins, dtype=np.int64)
    _uniform_range(t1, t2, start, width, nbins, 0, t1.shape[0], counts)
    return counts


@njit(cache=True)
def _general_serial(t1, t2, edges, ka, kb, use_log, cell, centre):
    counts = np.zeros(edges.shape[0] - 1, dtype=np.int64)
    lut = _build_lut(edges, ka, kb, cell)
    lpos, lneg = _build_log_luts(edges, ka, kb, centre)
    _general_range(
        t1, t2, edges, ka, kb, use_log, lut, cell, lpos, lneg, centre, 0, t1.shape[0], counts
    )
    return counts


@njit(cache=True)
def _sum_chunks(rows):
    """(nbins,) int64 histogram from the (nchunks, nbins) per-chunk rows of a parallel
    kernel (each chunk fills its own row, so the threads never share a bin)."""
    nchunks, nbins = rows.shape
    out = np.zeros(nbins, dtype=np.int64)
    for c in range(nchunks):
        for k in range(nbins):
            out[k] += rows[c, k]
    return out


@njit(cache=True, parallel=True)
def _uniform_parallel(t1, t2, start, width, nbins, nchunks):
    n1 = t1.shape[0]
    rows = np.zeros((nchunks, nbins), dtype=np.int64)
    for c in prange(nchunks):
        i0 = (n1 * c) // nchunks
        i1 = (n1 * (c + 1)) // nchunks
        _uniform_range(t1, t2, start, width, nbins, i0, i1, rows[c])
    return _sum_chunks(rows)


@njit(cache=True, parallel=True)
def _general_parallel(t1, t2, edges, ka, kb, use_log, cell, centre, nchunks):
    n1 = t1.shape[0]
    nb = edges.shape[0] - 1
    lut = _build_lut(edges, ka, kb, cell)
    lpos, lneg = _build_log_luts(edges, ka, kb, centre)
    rows = np.zeros((nchunks, nb), dtype=np.int64)
    for c in prange(nchunks):
        i0 = (n1 * c) // nchunks
        i1 = (n1 * (c + 1)) // nchunks
        _general_range(
            t1, t2, edges, ka, kb, use_log, lut, cell, lpos, lneg, centre, i0, i1, rows[c]
        )
    return _sum_chunks(rows)


# ----------------------------------------------------------------------------- public


def _check_stream(name: str, t: np.ndarray) -> np.ndarray:
    t = np.asarray(t)
    if t.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of int64 picosecond time tags, got shape {t.shape}"
        )
    if t.dtype != np.int64:
        raise ValueError(
            f"{name} must have dtype int64 (time tags in ps), got {t.dtype}; "
            "float time tags shift correlation curves — convert hardware units to int64 ps"
        )
    if t.size > 1 and np.any(t[1:] < t[:-1]):
        bad = int(np.argmax(t[1:] < t[:-1])) + 1
        raise ValueError(
            f"{name} must be non-decreasing; t[{bad}]={t[bad]} < t[{bad - 1}]={t[bad - 1]}"
        )
    return np.ascontiguousarray(t)


def _check_edges(edges: np.ndarray) -> np.ndarray:
    e = np.asarray(edges)
    if e.ndim != 1 or e.size < 2:
        raise ValueError(
            f"edges_ps must be a 1-D array of at least 2 bin edges, got shape {e.shape}"
        )
    if not np.issubdtype(e.dtype, np.integer):
        if (
            not np.issubdtype(e.dtype, np.floating)
            or not np.all(np.isfinite(e))
            or np.any(e != np.round(e))
        ):
            raise ValueError(
                "edges_ps must be integer picoseconds (use linear_edges/log_edges to build them)"
            )
    e = e.astype(np.int64)
    if np.any(np.diff(e) <= 0):
        raise ValueError("edges_ps must be strictly increasing")
    if np.abs(e).max() > 2**62 // 4:
        raise ValueError("edges_ps magnitude too large (|edge| must be < 2^60 ps)")
    return np.ascontiguousarray(e)


def is_uniform(edges_ps: np.ndarray) -> bool:
    """True when all bins of the integer edges have the same width."""
    d = np.diff(np.asarray(edges_ps, dtype=np.int64))
    return bool(d.size > 0 and np.all(d == d[0]))


def _narrow_region(edges: np.ndarray, rate2_per_ps: float) -> tuple[int, int]:
    """Indices (ka, kb): bins ka..kb-1 are walked pair by pair, the rest use pointers.

    The narrow region is the contiguous run of bins, around the narrowest bin, whose
    expected pairs per start photon (rate * width) stay below `_WIDE_PAIRS_PER_BIN`.
    """
    w = np.diff(edges).astype(np.float64)
    nb = w.size
    narrow = w * rate2_per_ps <= _WIDE_PAIRS_PER_BIN
    if not narrow.any():
        k = int(np.argmin(w))
        return k, k + 1
    k0 = int(np.argmin(np.where(narrow, w, np.inf)))
    ka = k0
    while ka > 0 and narrow[ka - 1]:
        ka -= 1
    kb = k0 + 1
    while kb < nb and narrow[kb]:
        kb += 1
    return ka, kb


def _lookup_plan(edges: np.ndarray, ka: int, kb: int) -> tuple[bool, int, int]:
    """Choose the bin lookup of the general kernel: (use_log, grid cell ps, log centre).

    A uniform grid whose cells are no wider than the narrowest bin is exact to one step
    and is used when it stays small (cache resident, <= _MAX_LUT cells); otherwise
    log-linear tables around the edge nearest zero delay (log bins), with a coarse grid
    kept as a placeholder.
    """
    e = edges[ka : kb + 1]
    wmin = int(np.diff(e).min())
    span = int(e[-1] - e[0])
    if -(-span // wmin) <= _MAX_LUT:
        return False, wmin, int(e[0])
    centre = int(e[np.argmin(np.abs(e))])
    return True, -(-span // 16), centre


def cross_correlation_counts(
    t1_ps: np.ndarray,
    t2_ps: np.ndarray,
    edges_ps: np.ndarray,
    *,
    parallel: bool = False,
    nchunks: int | None = None,
) -> np.ndarray:
    """Raw coincidence counts of the delays `t2 - t1` in arbitrary bins.

    Args:
        t1_ps: (N1,) int64 start-channel time tags, picoseconds, non-decreasing.
        t2_ps: (N2,) int64 stop-channel time tags, picoseconds, non-decreasing.
        edges_ps: (K+1,) strictly increasing integer bin edges in ps (delays may be
            negative); bin k is `[edges[k], edges[k+1])` (left-inclusive, as
            `pycorrelate.pcorrelate`).
        parallel: split `t1` into chunks and fill one histogram per chunk with numba
            `prange` (for long streams); identical result.
        nchunks: number of chunks for `parallel` (default 4 x numba threads).

    Returns:
        (K,) int64 counts: `C_k = #{(i, j): edges[k] <= t2[j] - t1[i] < edges[k+1]}`.

    Raises:
        ValueError: wrong dtype/shape, unsorted streams, bad edges.
    """
    t1 = _check_stream("t1_ps", t1_ps)
    t2 = _check_stream("t2_ps", t2_ps)
    edges = _check_edges(edges_ps)
    nb = edges.size - 1
    if t1.size == 0 or t2.size == 0:
        return np.zeros(nb, dtype=np.int64)
    if parallel:
        if nchunks is None:
            import numba

            nchunks = 4 * int(numba.get_num_threads())
        nchunks = max(1, min(int(nchunks), t1.size))
    if is_uniform(edges):
        start, width = int(edges[0]), int(edges[1] - edges[0])
        if parallel:
            return _uniform_parallel(t1, t2, start, width, nb, nchunks)
        return _uniform_serial(t1, t2, start, width, nb)
    span = float(max(t2[-1] - t2[0], 1))
    ka, kb = _narrow_region(edges, t2.size / span)
    use_log, cell, centre = _lookup_plan(edges, ka, kb)
    if parallel:
        return _general_parallel(t1, t2, edges, ka, kb, use_log, cell, centre, nchunks)
    return _general_serial(t1, t2, edges, ka, kb, use_log, cell, centre)


def linear_edges(max_delay_ps: int, bin_ps: int, min_delay_ps: int | None = None) -> np.ndarray:
    """Uniform integer edges from `min_delay_ps` (default `-max_delay_ps`) to `max_delay_ps`.

    Args:
        max_delay_ps: largest delay, ps (rounded up to a whole number of bins).
        bin_ps: bin width, ps, >= 1.
        min_delay_ps: smallest delay, ps; default symmetric.

    Returns:
        (K+1,) int64 edges.
    """
    bin_ps = int(bin_ps)
    if bin_ps < 1:
        raise ValueError(f"bin_ps must be >= 1 ps, got {bin_ps}")
    lo = -int(max_delay_ps) if min_delay_ps is None else int(min_delay_ps)
    hi = int(max_delay_ps)
    if hi <= lo:
        raise ValueError(f"max delay ({hi} ps) must exceed min delay ({lo} ps)")
    n = -(-(hi - lo) // bin_ps)
    return lo + bin_ps * np.arange(n + 1, dtype=np.int64)


def log_edges(
    min_delay_ps: int, max_delay_ps: int, bins_per_decade: int, *, symmetric: bool = True
) -> np.ndarray:
    """Log-spaced integer edges, optionally mirrored to negative delays.

    Positive edges run from `min_delay_ps` to `max_delay_ps` with `bins_per_decade` per
    decade (rounded to whole ps, duplicates removed). With `symmetric`, the edges are
    `[-e_n, ..., -e_0, e_0, ..., e_n]` plus a central bin `[-e_0, e_0)`.

    Returns:
        (K+1,) int64 strictly increasing edges.
    """
    if not (0 < min_delay_ps < max_delay_ps):
        raise ValueError("need 0 < min_delay_ps < max_delay_ps")
    if bins_per_decade < 1:
        raise ValueError("bins_per_decade must be >= 1")
    nd = np.log10(max_delay_ps / min_delay_ps)
    n = int(np.ceil(nd * bins_per_decade)) + 1
    pos = np.unique(
        np.round(np.logspace(np.log10(min_delay_ps), np.log10(max_delay_ps), n)).astype(np.int64)
    )
    pos = pos[pos > 0]
    if symmetric:
        return np.concatenate([-pos[::-1], pos])
    return pos
