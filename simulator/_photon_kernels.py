"""Private numba kernels of the photon-stream generator (`simulator.photons`).

Kernels take only arrays and scalars, seed numba's own Mersenne-Twister state with the
seed they are given (so a stream is bit-reproducible), and do no validation: the public
wrapper `simulator.photons.photon_stream` validates units and ranges first. Everything a
kernel calls lives in this module (numba's on-disk cache does not see edits elsewhere).

Units inside the kernels: times in picoseconds (int64 for time tags, float64 for delays),
dwell times of the blinking trajectory in seconds.

Kinds of detector clicks (the `kind` arrays): 0 = emitter photon, 1 = uncorrelated
background, 2 = dark count, 3 = afterpulse.
"""

from __future__ import annotations

import numpy as np
from numba import njit

KIND_SIGNAL = 0
KIND_BACKGROUND = 1
KIND_DARK = 2
KIND_AFTERPULSE = 3


# ----------------------------------------------------------------------------- helpers


@njit(cache=True)
def _grow(a, n):
    """Return `a` or a copy (same dtype) with twice the capacity, so index `n` is writable."""
    if n < a.shape[0]:
        return a
    b = np.empty(max(2 * a.shape[0], 64), a.dtype)
    b[:n] = a[:n]
    return b


@njit(cache=True)
def _extend(a, n, src):
    """Append `src` to the first `n` entries of `a` (growing it); returns (array, new n)."""
    for i in range(src.shape[0]):
        a = _grow(a, n)
        a[n] = src[i]
        n += 1
    return a, n


@njit(cache=True)
def _round_i8(x):
    """Nearest integer (half up) of a float, as int64."""
    return np.int64(np.floor(x + 0.5))


@njit(cache=True)
def _poisson_excess(n_mean, p2):
    """Excitations beyond two, k - 2, for k ~ Poisson(n_mean) conditioned on k >= 2 (p2 =
    P(k >= 2) > 0), by inverse CDF from k = 2."""
    u = np.random.random() * p2
    pk = np.exp(-n_mean) * n_mean * n_mean / 2.0
    k = 2
    acc = pk
    while acc < u and k < 1000:
        k += 1
        pk *= n_mean / k
        acc += pk
    return k - 2


@njit(cache=True)
def _tpl_sample(alpha, t_min, t_max):
    """One draw of a power law p(t) ∝ t^-alpha truncated to [t_min, t_max] (inverse CDF)."""
    u = np.random.random()
    if abs(alpha - 1.0) < 1e-12:
        return t_min * (t_max / t_min) ** u
    a1 = 1.0 - alpha
    lo = t_min**a1
    hi = t_max**a1
    t = (lo + u * (hi - lo)) ** (1.0 / a1)
    # guard rounding at the edges
    if t < t_min:
        t = t_min
    if t > t_max:
        t = t_max
    return t


@njit(cache=True)
def _tpl_mean(alpha, t_min, t_max):
    """Mean of the truncated power law p(t) ∝ t^-alpha on [t_min, t_max]."""
    if abs(alpha - 1.0) < 1e-12:
        return (t_max - t_min) / np.log(t_max / t_min)
    a1 = 1.0 - alpha
    c = a1 / (t_max**a1 - t_min**a1)
    if abs(alpha - 2.0) < 1e-12:
        return c * np.log(t_max / t_min)
    a2 = 2.0 - alpha
    return c * (t_max**a2 - t_min**a2) / a2


@njit(cache=True)
def _blink_trajectory(duration_ps, alpha_on, alpha_off, t_min_s, t_max_s):
    """Alternating on/off trajectory with truncated power-law dwell times.

    The first state is on with probability mean_on / (mean_on + mean_off). Every dwell is a
    full draw from its distribution (the last one may run past the end of the record).

    Returns:
        switch_ps: (S,) int64 times at which the state toggles, increasing, < duration_ps.
        start_on: state at t = 0.
        on_dwell_s, off_dwell_s: (n_on,), (n_off,) float64 dwell times drawn, seconds.
        on_fraction: fraction of [0, duration) spent on.
    """
    mean_on = _tpl_mean(alpha_on, t_min_s, t_max_s)
    mean_off = _tpl_mean(alpha_off, t_min_s, t_max_s)
    on = np.random.random() < mean_on / (mean_on + mean_off)
    start_on = on
    dur_s = duration_ps * 1e-12
    sw = np.empty(64, np.int64)
    nsw = 0
    on_d = np.empty(64, np.float64)
    n_on = 0
    off_d = np.empty(64, np.float64)
    n_off = 0
    on_time = 0.0
    t = 0.0
    while t < dur_s:
        if on:
            d = _tpl_sample(alpha_on, t_min_s, t_max_s)
            on_d = _grow(on_d, n_on)
            on_d[n_on] = d
            n_on += 1
            on_time += min(t + d, dur_s) - t
        else:
            d = _tpl_sample(alpha_off, t_min_s, t_max_s)
            off_d = _grow(off_d, n_off)
            off_d[n_off] = d
            n_off += 1
        t += d
        if t < dur_s:
            sw = _grow(sw, nsw)
            sw[nsw] = _round_i8(t * 1e12)
            nsw += 1
            on = not on
    return sw[:nsw].copy(), start_on, on_d[:n_on].copy(), off_d[:n_off].copy(), on_time / dur_s


@njit(cache=True)
def _blink_all(n_dots, blinking, duration_ps, alpha_on, alpha_off, t_min_s, t_max_s):
    """Blinking trajectories of all dots (see `_blink_trajectory`), concatenated.

    Returns:
        sw_all: (S,) int64 switch times of all dots; dot i owns sw_all[off[i]:off[i+1]].
        off: (n_dots + 1,) int64 offsets into sw_all.
        start_on: (n_dots,) bool state of each dot at t = 0.
        on_dwell_s, off_dwell_s: float64 dwell times drawn, all dots, s.
        on_fraction: (n_dots,) float64 realised on fraction per dot.
    """
    sw_all = np.empty(64, np.int64)
    n_sw = 0
    off = np.zeros(n_dots + 1, np.int64)
    start_on = np.ones(n_dots, np.bool_)
    on_all = np.empty(64, np.float64)
    n_on_all = 0
    off_all = np.empty(64, np.float64)
    n_off_all = 0
    on_fraction = np.ones(n_dots, np.float64)
    for dot in range(n_dots):
        if blinking:
            sw, state0, on_d, off_d, frac = _blink_trajectory(
                duration_ps, alpha_on, alpha_off, t_min_s, t_max_s
            )
            start_on[dot] = state0
            on_fraction[dot] = frac
            sw_all, n_sw = _extend(sw_all, n_sw, sw)
            on_all, n_on_all = _extend(on_all, n_on_all, on_d)
            off_all, n_off_all = _extend(off_all, n_off_all, off_d)
        off[dot + 1] = n_sw
    return (
        sw_all[:n_sw].copy(),
        off,
        start_on,
        on_all[:n_on_all].copy(),
        off_all[:n_off_all].copy(),
        on_fraction,
    )


@njit(cache=True)
def _detect(base_ps, delay_ps, p_det, jitter_ps, duration_ps, out_t, out_ch, n_out):
    """Collection + detection + 50/50 beamsplitter + jitter for one emitted photon.

    The photon is emitted at base_ps (int64, exact) + delay_ps (float); keeping the large
    part integer keeps picosecond precision however long the record.
    Returns the (possibly reallocated) output arrays and the new count.
    """
    if np.random.random() >= p_det:
        return out_t, out_ch, n_out
    ch = np.uint8(1) if np.random.random() < 0.5 else np.uint8(0)
    dt = delay_ps
    if jitter_ps > 0.0:
        dt += np.random.normal(0.0, jitter_ps)
    t = base_ps + _round_i8(dt)
    if t < 0 or t >= duration_ps:
        return out_t, out_ch, n_out
    out_t = _grow(out_t, n_out)
    out_ch = _grow(out_ch, n_out)
    out_t[n_out] = t
    out_ch[n_out] = ch
    return out_t, out_ch, n_out + 1


# ----------------------------------------------------------------------------- emitters


@njit(cache=True)
def _start_dots(n_dots, blinking, duration_ps, alpha_on, alpha_off, t_min_s, t_max_s):
    """What both emission kernels start from: empty (1024,) int64 time / uint8 channel
    buffers, the blinking trajectories of all dots (`_blink_all`'s tuple) and (4,) zero
    stats. Call after seeding: the trajectories draw from numba's generator."""
    out_t = np.empty(1024, np.int64)
    out_ch = np.empty(1024, np.uint8)
    traj = _blink_all(n_dots, blinking, duration_ps, alpha_on, alpha_off, t_min_s, t_max_s)
    return out_t, out_ch, traj, np.zeros(4, np.int64)


@njit(cache=True)
def _yield_scale(sw, ptr, state0, t_ps, off_scale):
    """Where one dot's blinking trajectory is at time t_ps, and what it does to the yields.

    Args:
        sw: (S,) int64 switching times of the dot, ps, increasing; state0: on at t = 0.
        ptr: switches already passed (times are asked in non-decreasing order).

    Returns:
        (ptr advanced past every switch at or before t_ps, yield multiplier: 1.0 on,
        off_scale off).
    """
    while ptr < sw.shape[0] and sw[ptr] <= t_ps:
        ptr += 1
    on = state0 if (ptr % 2 == 0) else (not state0)
    return ptr, 1.0 if on else off_scale


@njit(cache=True)
def _result(out_t, out_ch, n_out, traj, stats):
    """The emission kernels' return tuple (see `_pulsed_kernel`)."""
    return (out_t[:n_out].copy(), out_ch[:n_out].copy(), traj[0], traj[1], traj[2], traj[3],
            traj[4], traj[5], stats)


@njit(cache=True)
def _pulsed_kernel(seed, n_dots, n_pulses, period_ps, p1, p2, n_mean, ladder, eta_x, eta_xx,
                   tau_x_ps, tau_xx_ps, blinking, alpha_on, alpha_off, t_min_s, t_max_s,
                   off_scale, p_det, jitter_ps):
    """Pulsed excitation of `n_dots` independent dots; detected photons before detector effects.

    Pulse k fires at k * period_ps. A dot is excited by a pulse with probability p1 = P(N>=1)
    (Poisson <N>); the next excited pulse is found by a geometric skip, so empty pulses cost
    nothing. Given >= 1 excitation, the dot holds a biexciton with probability p2 / p1.
    Without `ladder` higher multiexcitons relax to XX silently (saturation at two); with it,
    each of the k - 2 excitations beyond XX (k ~ Poisson(n_mean) given k >= 2) emits first,
    after Exp(tau_xx) each, with probability eta_xx (`simulator.dot`). Cascade: XX decays
    after Exp(tau_xx), emitting with probability eta_xx; then X decays after Exp(tau_x),
    emitting with probability eta_x. In the off state of the blinking trajectory both yields
    are multiplied by off_scale (state taken at the pulse time).

    Returns:
        t: (M,) int64 jittered arrival times in ps (unsorted), within [0, n_pulses*period_ps).
        ch: (M,) uint8 detector index.
        sw_all, sw_off, start_on, on_dwell_s, off_dwell_s, on_fraction: blinking
            trajectories of all dots (see `_blink_all`).
        stats: (4,) int64 [excited pulses, biexciton pulses, X photons emitted,
            XX photons emitted], summed over dots.
    """
    np.random.seed(seed)
    duration_ps = n_pulses * period_ps
    out_t, out_ch, traj, stats = _start_dots(
        n_dots, blinking, duration_ps, alpha_on, alpha_off, t_min_s, t_max_s
    )
    sw_all, sw_off, start_on = traj[0], traj[1], traj[2]
    n_out = 0
    q2 = p2 / p1 if p1 > 0.0 else 0.0
    log_q = np.log1p(-p1) if p1 < 1.0 else 0.0
    for dot in range(n_dots if p1 > 0.0 else 0):  # p1 = 0: no dot is ever excited
        sw, state0 = sw_all[sw_off[dot] : sw_off[dot + 1]], start_on[dot]
        ptr = 0
        k = np.int64(-1)
        while True:
            # geometric skip to the next excited pulse: G in {1, 2, ...}
            if p1 >= 1.0:
                k += 1
            else:
                u = 1.0 - np.random.random()  # (0, 1]
                g = np.floor(np.log(u) / log_q)
                if k + 1.0 + g >= n_pulses:
                    break
                k += np.int64(g) + 1
            if k >= n_pulses:
                break
            t0 = k * period_ps
            ptr, sc = _yield_scale(sw, ptr, state0, t0, off_scale)
            stats[0] += 1
            if np.random.random() < q2:
                stats[1] += 1
                d_xx = 0.0
                # the ladder's excitations beyond XX, then XX itself: each decays after
                # Exp(tau_xx) and emits with probability eta_xx
                n_xx_decays = 1 + (_poisson_excess(n_mean, p2) if ladder else 0)
                for _ in range(n_xx_decays):
                    d_xx += np.random.exponential(tau_xx_ps)
                    if np.random.random() < eta_xx * sc:
                        stats[3] += 1
                        out_t, out_ch, n_out = _detect(
                            t0, d_xx, p_det, jitter_ps, duration_ps, out_t, out_ch, n_out
                        )
                d_x = d_xx + np.random.exponential(tau_x_ps)
            else:
                d_x = np.random.exponential(tau_x_ps)
            if np.random.random() < eta_x * sc:
                stats[2] += 1
                out_t, out_ch, n_out = _detect(
                    t0, d_x, p_det, jitter_ps, duration_ps, out_t, out_ch, n_out
                )
    return _result(out_t, out_ch, n_out, traj, stats)


@njit(cache=True)
def _cw_kernel(seed, n_dots, duration_ps, k_exc_per_ps, eta_x, eta_xx, tau_x_ps, tau_xx_ps,
               blinking, alpha_on, alpha_off, t_min_s, t_max_s, off_scale, p_det, jitter_ps):
    """CW excitation: three-level (0 / X / XX) Markov chain per dot, simulated exactly (Gillespie).

    Rates: 0 -> X at k_exc; X -> 0 at 1/tau_x (photon with probability eta_x); X -> XX at
    k_exc; XX -> X at 1/tau_xx (photon with probability eta_xx); excitation of XX is ignored
    (saturation at two). Each dot starts empty at t = 0. Blinking gates the yields by
    off_scale in the off state (state taken at the decay time).

    Returns the same tuple as `_pulsed_kernel`.
    """
    np.random.seed(seed)
    out_t, out_ch, traj, stats = _start_dots(
        n_dots, blinking, duration_ps, alpha_on, alpha_off, t_min_s, t_max_s
    )
    sw_all, sw_off, start_on = traj[0], traj[1], traj[2]
    n_out = 0
    k_x = 1.0 / tau_x_ps
    k_tot_x = k_x + k_exc_per_ps
    p_decay_x = k_x / k_tot_x
    dur = float(duration_ps)
    for dot in range(n_dots if k_exc_per_ps > 0.0 else 0):  # no excitation: no photon
        sw, state0 = sw_all[sw_off[dot] : sw_off[dot + 1]], start_on[dot]
        ptr = 0
        t = 0.0
        state = 0
        while True:
            if state == 0:
                t += np.random.exponential(1.0 / k_exc_per_ps)
                if t >= dur:
                    break
                stats[0] += 1
                state = 1
                continue
            if state == 1:
                t += np.random.exponential(1.0 / k_tot_x)
                if t >= dur:
                    break
                if np.random.random() < p_decay_x:
                    state = 0
                    eta = eta_x
                    is_xx = False
                else:
                    stats[0] += 1
                    stats[1] += 1
                    state = 2
                    continue
            else:
                t += np.random.exponential(tau_xx_ps)
                if t >= dur:
                    break
                state = 1
                eta = eta_xx
                is_xx = True
            ptr, sc = _yield_scale(sw, ptr, state0, _round_i8(t), off_scale)
            if np.random.random() < eta * sc:
                if is_xx:
                    stats[3] += 1
                else:
                    stats[2] += 1
                out_t, out_ch, n_out = _detect(
                    np.int64(0), t, p_det, jitter_ps, duration_ps, out_t, out_ch, n_out
                )
    return _result(out_t, out_ch, n_out, traj, stats)


# ----------------------------------------------------------------------------- detectors


@njit(cache=True)
def _heap_push(heap, size, value):
    heap = _grow(heap, size)
    i = size
    heap[i] = value
    while i > 0:
        parent = (i - 1) // 2
        if heap[parent] <= heap[i]:
            break
        tmp = heap[parent]
        heap[parent] = heap[i]
        heap[i] = tmp
        i = parent
    return heap, size + 1


@njit(cache=True)
def _heap_pop(heap, size):
    """Remove the minimum (heap[0]); returns the new size."""
    size -= 1
    heap[0] = heap[size]
    i = 0
    while True:
        left = 2 * i + 1
        right = left + 1
        small = i
        if left < size and heap[left] < heap[small]:
            small = left
        if right < size and heap[right] < heap[small]:
            small = right
        if small == i:
            break
        tmp = heap[small]
        heap[small] = heap[i]
        heap[i] = tmp
        i = small
    return size


@njit(cache=True)
def _detector_kernel(seed, cand_t, cand_k, duration_ps, dead_ps, ap_prob, ap_mean_ps):
    """One single-photon detector: non-paralysable dead time and afterpulsing.

    Candidates (signal, background, dark clicks) are taken in the given time order, merged
    with the afterpulses as they are spawned (ties: candidate first). A click is recorded
    when it comes at least dead_ps after the last recorded click, so the recorded rate never
    exceeds 1/dead time. Each recorded click spawns an afterpulse with probability ap_prob
    after an Exp(ap_mean_ps) delay; afterpulses are clicks like any other (subject to the
    dead time, may afterpulse themselves); those at or after duration_ps are dropped.

    Args:
        seed: seed of numba's generator (afterpulse draws).
        cand_t: (M,) int64 candidate click times, non-decreasing, in [0, duration_ps).
        cand_k: (M,) uint8 candidate kinds (KIND_* constants).

    Returns:
        t: (R,) int64 recorded click times, non-decreasing.
        kind: (R,) uint8 click kind (KIND_* constants).
    """
    np.random.seed(seed)
    n = cand_t.shape[0]
    out_t = np.empty(max(n, 16), np.int64)
    out_k = np.empty(max(n, 16), np.uint8)
    n_out = 0
    heap = np.empty(16, np.int64)
    h = 0
    i = 0
    last = np.int64(0)
    big = np.iinfo(np.int64).max
    while True:
        tc = cand_t[i] if i < n else big
        if h > 0 and heap[0] < tc:
            te = heap[0]
            ke = np.uint8(KIND_AFTERPULSE)
            h = _heap_pop(heap, h)
        elif i < n:
            te = tc
            ke = cand_k[i]
            i += 1
        else:
            break
        if n_out == 0 or te - last >= dead_ps:
            out_t = _grow(out_t, n_out)
            out_k = _grow(out_k, n_out)
            out_t[n_out] = te
            out_k[n_out] = ke
            n_out += 1
            last = te
            if ap_prob > 0.0 and np.random.random() < ap_prob:
                ta = te + _round_i8(np.random.exponential(ap_mean_ps))
                if ta < duration_ps:
                    heap, h = _heap_push(heap, h, ta)
    return out_t[:n_out].copy(), out_k[:n_out].copy()
