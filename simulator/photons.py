"""Single-dot (and few-dot flow-cell) photon streams: event-driven, numba, int64 ps time tags.

Pipeline (SIMULATOR.md item 6, DOMAIN.md §7):
laser pulses (pulsed: period 1/rep_rate) or a CW Poisson excitation process
-> multiexciton cascade (optional ladder: each excitation above XX emits with eta_XX; then
XX photon with probability eta_XX after Exp(tau_XX), X photon with eta_X after Exp(tau_X))
-> blinking gate (alternating on/off, truncated power-law dwell times, alpha ~1.5)
-> 50/50 beamsplitter -> per detector: collection x detection efficiency, Gaussian jitter,
uncorrelated background, dark counts, non-paralysable dead time, afterpulsing
-> int64 picosecond time tags of both channels, merged and stably sorted.

Sources:
- Nair, Zhao, Bawendi, Nano Lett. 11, 1136 (2011): low-fluence pulsed g2(0) ≈ QY_XX/QY_X,
  QY_XX = k_rXX / (k_rXX + k_Auger + k_nr,XX), k_rXX ≈ 4 k_rX (`simulator.dot`).
- Pulsed g2(0) with Poisson excitation: g2(0) = 2 eta_X eta_XX p2 / (eta_X p1 + eta_XX p2)^2,
  p1 = P(N >= 1), p2 = P(N >= 2) (SIMULATOR.md, "Pulsed g2 formula").
- Brouri et al., Opt. Lett. 25, 1294 (2000): background, g2_meas = 1 - rho^2 (1 - g2).
- Beyler et al., Nano Lett. 14, 4295 (2014) / PRL 111, 177401 (2013): several dots in focus.
- Auger time ∝ total volume, per material (CdSe ~1 ps/nm^3: Klimov et al., Science 287,
  1011 (2000)), slowed by shells; multiexciton ladder from Klimov's tau_2/tau_3 ~ (3/2)^2.
- Blinking: Kuno et al., J. Chem. Phys. 115, 1028 (2001); power-law MLE: Clauset, Shalizi,
  Newman, SIAM Rev. 51, 661 (2009).

Nothing compiles at import: the kernels in `simulator._photon_kernels` are imported and
jitted on the first call of `photon_stream`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simulator import dot as dotphys
from simulator.dot import poisson_p1_p2
from simulator.photon_params import (
    DetectorParams,
    EmitterParams,
    Excitation,
    PhotonStream,
    check_real,
    validate_detectors,
    validate_emitter,
    validate_excitation,
)

__all__ = ["DetectorParams", "EmitterParams", "Excitation", "PhotonStream", "dopant_emitter",
           "emitter_for_dot",
           "emitter_from_dot", "expected_g2_zero", "photon_stream", "poisson_p1_p2"]

# Largest expected number of detector candidate clicks (both channels) per stream; beyond
# this the arrays would take gigabytes. Lower the acquisition time or the rates.
MAX_EXPECTED_CLICKS = 50_000_000

# Largest number of laser pulses simulated per dot (int64 ps stays exact far beyond this).
MAX_PULSES = 10**12


# ----------------------------------------------------------------------------- physics


def _cw_stationary(emitter: EmitterParams, mean_excitations: float) -> tuple[float, float, float]:
    """Stationary populations (P0, PX, PXX) of the CW three-level chain."""
    k_x = 1.0 / emitter.tau_x_ns
    k_xx = 1.0 / emitter.tau_xx_ns
    k_e = mean_excitations / emitter.tau_x_ns
    w0, wx, wxx = 1.0, k_e / k_x, (k_e / k_x) * (k_e / k_xx)
    s = w0 + wx + wxx
    return w0 / s, wx / s, wxx / s


def expected_g2_zero(emitter: EmitterParams, excitation: Excitation) -> float:
    """Expected g2(0) of one dot (no background, detector effects or blinking dependence).

    Pulsed (SIMULATOR.md; Nair, Zhao, Bawendi 2011): the centre-to-side peak-area ratio
        g2(0) = 2 eta_X eta_XX p2 / (eta_X p1 + eta_XX p2)^2,
    p1 = P(N >= 1), p2 = P(N >= 2), N ~ Poisson(<N>); -> eta_XX / eta_X as <N> -> 0.
    With `multiexciton_ladder` the higher multiexcitons add photons and g2(0) rises to 1 at
    high power (`simulator.dot.pulsed_photon_moments`).

    CW: zero-delay value of the three-level (0 / X / XX) chain of `photon_stream`,
        g2(0) = (eta_XX k_XX P_XX)(eta_X k_X) / R^2,  R = eta_X k_X P_X + eta_XX k_XX P_XX,
    with stationary populations P (exact for the Markov model: after an XX photon the dot is
    in X, after an X photon it is empty).

    Blinking with off_eta_scale scales both yields alike, so the ratio is unchanged.

    Args:
        emitter: the dot.
        excitation: the excitation.

    Returns:
        g2(0), dimensionless (nan when the dot emits nothing).
    """
    validate_emitter(emitter)
    validate_excitation(excitation)
    ex, exx = emitter.eta_x, emitter.eta_xx
    if excitation.mode == "pulsed":
        return dotphys.g2_zero_pulsed(ex, exx, excitation.mean_excitations,
                                      bool(emitter.multiexciton_ladder))
    _, px, pxx = _cw_stationary(emitter, excitation.mean_excitations)
    k_x = 1.0 / emitter.tau_x_ns
    k_xx = 1.0 / emitter.tau_xx_ns
    rate = ex * k_x * px + exx * k_xx * pxx
    if rate <= 0.0:
        return math.nan
    return (exx * k_xx * pxx) * (ex * k_x) / (rate * rate)


def emitter_from_dot(
    core_radius_nm: float,
    shell_thickness_nm: float,
    qy_x: float,
    tau_x_ns: float,
    *,
    auger_ps_per_nm3: float = 1.0,
    blinking: bool = True,
    nr_xx_scaling: float = 4.0,
    shape: str = "sphere",
    auger_slowdown_length_nm: float = 0.0,
    off_eta_scale: float = 0.0,
    multiexciton_ladder: bool = True,
) -> EmitterParams:
    """Emitter parameters of an on-state core/shell dot from its size, QY_X and lifetime.

    Rates (Nair, Zhao, Bawendi 2011; `simulator.dot`): k_r = QY_X / tau_X,
    k_nr,X = (1 - QY_X) / tau_X, k_rXX = 4 k_r, k_nr,XX = nr_xx_scaling x k_nr,X,
    k_A = 1 / tau_A with tau_A = auger_ps_per_nm3 x V x (1 + h / L_slow), V the total
    volume (sphere pi/6 (2r + 2h)^3 or cube (2r + 2h)^3; DOMAIN.md §7: ~1 ps/nm^3 for
    CdSe, Klimov et al., Science 287, 1011 (2000)). eta_XX = k_rXX / (k_rXX + k_A + k_nr,XX),
    tau_XX = 1 / (k_rXX + k_A + k_nr,XX); with nr_xx_scaling >= 4, eta_XX <= eta_X.

    Args:
        core_radius_nm: core radius (half the cube edge for cubes), nm, [0.1, 100].
        shell_thickness_nm: shell thickness, nm (>= 0).
        qy_x: on-state exciton quantum yield, (0, 1].
        tau_x_ns: exciton lifetime, ns, [1e-9, 1e6].
        auger_ps_per_nm3: Auger time per unit total volume, ps/nm^3, [1e-3, 1e3].
        blinking: whether the dot blinks (defaults for the dwell statistics).
        nr_xx_scaling: k_nr,XX / k_nr,X, [2, 16].
        shape: "sphere" or "cube".
        auger_slowdown_length_nm: L_slow of the shell, nm (0: no slowdown).
        off_eta_scale: off-state brightness relative to on, [0, 1] (thick shells -> 1).
        multiexciton_ladder: pulsed: levels above XX emit with eta_XX (g2 rises with <N>).

    Returns:
        The EmitterParams.

    Raises:
        ValueError: on out-of-range input.
    """
    r = check_real("core_radius_nm", core_radius_nm, low=0.1, high=100.0)
    h = check_real("shell_thickness_nm", shell_thickness_nm, low=0.0, high=100.0)
    qy = check_real("qy_x", qy_x, low=0.0, high=1.0, low_open=True)
    tau = check_real("tau_x_ns", tau_x_ns, low=0.0, low_open=True)
    a = check_real("auger_ps_per_nm3", auger_ps_per_nm3, low=1e-3, high=1e3)
    s_nr = check_real("nr_xx_scaling", nr_xx_scaling, low=2.0, high=16.0)
    slow = check_real("auger_slowdown_length_nm", auger_slowdown_length_nm, low=0.0)
    off = check_real("off_eta_scale", off_eta_scale, low=0.0, high=1.0)
    volume_nm3 = float(dotphys.volume_nm3(2.0 * (r + h), shape))
    tau_auger_ns = float(dotphys.auger_time_ns(a, volume_nm3, h, slow or None))
    k_r = qy / tau
    k_xx = 4.0 * k_r + 1.0 / tau_auger_ns + s_nr * (1.0 - qy) / tau
    return EmitterParams(
        tau_x_ns=tau,
        eta_x=qy,
        eta_xx=4.0 * k_r / k_xx,
        tau_xx_ns=1.0 / k_xx,
        blinking=bool(blinking),
        off_eta_scale=off,
        multiexciton_ladder=bool(multiexciton_ladder),
    )


def emitter_for_dot(dot: dict[str, Any], *, blinking: bool = True) -> EmitterParams:
    """`emitter_from_dot` for a dot drawn by `simulator.outlet.sample_dot` (all its keys)."""
    return emitter_from_dot(
        dot["core_radius_nm"], dot["shell_nm"], dot["qy_x"], dot["tau_x_ns"],
        auger_ps_per_nm3=dot.get("auger_ps_per_nm3", 1.0), blinking=blinking,
        nr_xx_scaling=dot.get("nr_xx_scaling", 4.0), shape=dot.get("shape", "sphere"),
        auger_slowdown_length_nm=dot.get("auger_slowdown_length_nm", 0.0),
        off_eta_scale=dot.get("off_eta_scale", 0.0),
    )


def dopant_emitter(dopant: Any) -> EmitterParams:
    """Mn2+ emitter of a doped dot for the photon generator: the 4T1 -> 6A1 emission with
    the preset's ms lifetime (`mn_lifetime_ms`) and single-Mn QY, no biexciton, no blinking.
    Its decay is measured like any other with `sdl.analysis.lifetime` at a laser period
    much longer than the lifetime (e.g. 200 Hz for 0.3 ms)."""
    return EmitterParams(tau_x_ns=float(dopant["mn_lifetime_ms"]) * 1e6,
                         eta_x=float(dopant["mn_qy_single"]), eta_xx=0.0, tau_xx_ns=1.0,
                         blinking=False)


def _blink_moments(
    switch_ps: np.ndarray,
    offsets: np.ndarray,
    start_on: np.ndarray,
    off_eta_scale: float,
    duration_ps: int,
) -> tuple[float, float, float]:
    """Time averages <S1>, <S1^2>, <S2> of the realised brightness of all dots.

    Dot i has brightness factor s_i(t) = 1 (on) or off_eta_scale (off); S1 = sum_i s_i,
    S2 = sum_i s_i^2. Exact for the piecewise-constant trajectories.

    Args:
        switch_ps: (S,) int64 blinking switch times of all dots, ps.
        offsets: (n + 1,) int64; dot i owns switch_ps[offsets[i]:offsets[i+1]].
        start_on: (n,) bool state of each dot at t = 0.
        off_eta_scale: brightness factor in the off state.
        duration_ps: record length, ps.
    """
    start_on = np.asarray(start_on, dtype=bool)
    n = start_on.shape[0]
    sc = float(off_eta_scale)
    s0 = np.where(start_on, 1.0, sc)
    counts = np.diff(offsets)
    dot = np.repeat(np.arange(n), counts)
    m = np.arange(switch_ps.shape[0]) - np.repeat(offsets[:-1], counts)
    sign = np.where(start_on[dot] ^ (m % 2 == 1), -1.0, 1.0)  # on -> off lowers s_i
    order = np.argsort(switch_ps, kind="stable")
    s1 = s0.sum() + np.concatenate([[0.0], np.cumsum(sign[order] * (1.0 - sc))])
    s2 = (s0 * s0).sum() + np.concatenate([[0.0], np.cumsum(sign[order] * (1.0 - sc * sc))])
    edges = np.concatenate([[0], switch_ps[order], [duration_ps]]).astype(np.float64)
    w = np.diff(edges) / float(duration_ps)
    return float((w * s1).sum()), float((w * s1 * s1).sum()), float((w * s2).sum())


def _ensemble_g2(g1: float, m1: float, m11: float, m2: float) -> dict[str, float]:
    """g2 of independent identical dots from the brightness moments (see `photon_stream`).

    Centre peak ∝ <g1 S2 + S1^2 - S2>, side peaks at lags much shorter than the dwell times
    ∝ <S1^2>, uncorrelated level (singles product) ∝ <S1>^2. For n non-blinking dots the
    centre/side ratio is 1 - (1 - g1)/n (DOMAIN.md §7). Normalised by the singles, the
    side and centre levels are those of Beyler et al. 2014; their ratio
    (g2_centre - 1)/(g2_side - 1) equals g1 only when the number of emitting dots is
    Poisson-distributed (var S1 = <S2>), not for a fixed number of blinking dots.
    """
    nan = math.nan
    if not math.isfinite(g1) or m11 <= 0.0:
        return {"short": nan, "centre": nan, "side": nan}
    centre = g1 * m2 + m11 - m2
    return {"short": centre / m11, "centre": centre / (m1 * m1), "side": m11 / (m1 * m1)}


def _candidates(
    sig_t: np.ndarray, duration_ps: int, background_hz: float, dark_hz: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate clicks of one detector, in time order: signal + background + dark counts.

    Background and dark counts are homogeneous Poisson processes on [0, duration_ps)
    (Poisson count, uniform times). Stable sort: at equal times signal comes first, then
    background, then dark. Kinds are `_photon_kernels.KIND_*` (0 signal, 1 background, 2 dark).
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    n_bg = int(rng.poisson(background_hz * duration_ps * 1e-12)) if background_hz > 0 else 0
    n_dk = int(rng.poisson(dark_hz * duration_ps * 1e-12)) if dark_hz > 0 else 0
    t = np.concatenate(
        [sig_t, rng.integers(0, duration_ps, n_bg), rng.integers(0, duration_ps, n_dk)]
    ).astype(np.int64, copy=False)
    kind = np.concatenate(
        [np.zeros(sig_t.shape[0], np.uint8), np.ones(n_bg, np.uint8), np.full(n_dk, 2, np.uint8)]
    )
    order = np.argsort(t, kind="stable")
    return np.ascontiguousarray(t[order]), np.ascontiguousarray(kind[order])


# ----------------------------------------------------------------------------- public


def photon_stream(
    emitter: EmitterParams,
    excitation: Excitation,
    detectors: DetectorParams,
    duration_s: float,
    seed: int,
    *,
    n_dots: int = 1,
) -> PhotonStream:
    """Simulate a two-detector (HBT) time-tagged photon stream of one or several dots.

    Pulsed: pulse k fires at k * sync_period_ps, sync_period_ps = round(1e12 / rep_rate_hz),
    for floor(duration_s / period) pulses. CW: excitation is a Poisson process at rate
    <N> / tau_X per dot. `n_dots` > 1 simulates independent dots in the focus (flow cell),
    each with its own blinking trajectory; they share the detectors.

    Pulses act independently (each excites a relaxed dot), as the pulsed g2 formula
    assumes: valid when the period is much longer than tau_X (truth["period_over_tau_x"];
    under ~10 the peaks overlap and fixed windows overestimate g2(0), SIMULATOR.md).
    Random numbers: numba's generator seeded inside the kernels (emission, afterpulses) and
    numpy PCG64 for the background/dark Poisson processes, all from
    SeedSequence(seed); same arguments and seed -> identical arrays, bit for bit.

    Args:
        emitter: the dot (all dots identical in flow-cell mode).
        excitation: pulsed or cw excitation.
        detectors: HBT detector parameters.
        duration_s: acquisition time, s (pulsed: (0, 1e5]; cw: [1e-9, 3600]).
        seed: non-negative int.
        n_dots: number of independent dots in focus (>= 1).

    Returns:
        PhotonStream. truth keys: mode, n_dots, duration_s, n_pulses, p1, p2, eta_x, eta_xx,
        tau_x_ns, tau_xx_ns, g2_zero_single (= expected_g2_zero), g2_zero_expected (all dots,
        realised blinking, centre over short-lag side peaks), signal_rate_hz_expected
        (signal clicks per second, both detectors, before dead time), g2_centre_singles_norm and
        g2_side_singles_norm (centre and short-lag side levels over the uncorrelated singles
        product, as in Beyler 2014; see `_ensemble_g2`), on_fraction
        (mean over dots), on_fraction_per_dot, on_dwell_s, off_dwell_s (every dwell drawn,
        all dots, s), blink_switch_ps / blink_offsets / blink_start_on (trajectories),
        n_excitation_events, n_biexcitons, n_x_photons_emitted, n_xx_photons_emitted,
        counts_signal / counts_background / counts_dark / counts_afterpulse (per channel,
        recorded clicks), rho (signal fraction of recorded clicks, per channel),
        period_over_tau_x (pulsed; < 10 means overlapping peaks).

    Raises:
        ValueError: on out-of-range input or a stream too large to hold in memory.
    """
    validate_emitter(emitter)
    validate_excitation(excitation)
    validate_detectors(detectors)
    duration = check_real("duration_s", duration_s, low=0.0, high=1e5, low_open=True)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if isinstance(n_dots, bool) or not isinstance(n_dots, (int, np.integer)):
        raise ValueError(f"n_dots must be an int, got {n_dots!r}")
    if not 1 <= int(n_dots) <= 100_000:
        raise ValueError(f"n_dots = {n_dots} is out of range; allowed [1, 100000]")
    n_dots = int(n_dots)

    e, x, d = emitter, excitation, detectors
    p_det = float(d.collection_efficiency) * float(d.detector_efficiency)
    p1, p2 = poisson_p1_p2(x.mean_excitations)
    tau_x_ps = e.tau_x_ns * 1e3
    tau_xx_ps = e.tau_xx_ns * 1e3

    if x.mode == "pulsed":
        period_ps = int(round(1e12 / float(x.rep_rate_hz)))
        if period_ps < 1:
            raise ValueError(f"excitation.rep_rate_hz = {x.rep_rate_hz} gives a period below 1 ps")
        n_pulses = int(math.floor(duration * 1e12 / period_ps))
        if n_pulses < 1:
            raise ValueError(
                f"duration_s = {duration} is shorter than one laser period ({period_ps} ps)"
            )
        if n_pulses > MAX_PULSES:
            raise ValueError(f"{n_pulses} pulses exceed the limit {MAX_PULSES}; shorten duration_s")
        duration_ps = n_pulses * period_ps
        photons_per_dot = n_pulses * dotphys.pulsed_photon_moments(
            e.eta_x, e.eta_xx, x.mean_excitations, bool(e.multiexciton_ladder))[0]
    else:
        if not 1e-9 <= duration <= 3600.0:
            raise ValueError(f"duration_s = {duration} is out of range for cw; allowed [1e-9, 3600] s")
        period_ps = 0
        n_pulses = 0
        duration_ps = int(round(duration * 1e12))
        k_e_per_ns = x.mean_excitations / e.tau_x_ns
        _, px, pxx = _cw_stationary(e, x.mean_excitations)
        photons_per_dot = duration * 1e9 * (
            e.eta_x * px / e.tau_x_ns + e.eta_xx * pxx / e.tau_xx_ns
        )
        events_per_dot = duration * 1e9 * 2.0 * k_e_per_ns
        if events_per_dot * n_dots > 50 * MAX_EXPECTED_CLICKS:
            raise ValueError(
                f"cw stream needs ~{events_per_dot * n_dots:.3g} excitation events; "
                "shorten duration_s or lower mean_excitations/n_dots"
            )
    expected_clicks = n_dots * photons_per_dot * p_det + 2.0 * duration * (
        d.dark_rate_hz + d.background_rate_hz
    )
    if expected_clicks > MAX_EXPECTED_CLICKS:
        raise ValueError(
            f"stream would hold ~{expected_clicks:.3g} clicks (limit {MAX_EXPECTED_CLICKS}); "
            "shorten duration_s or lower the rates/efficiencies"
        )

    from simulator import _photon_kernels as k

    if e.blinking:
        # plain-Python call of the kernel's helper (no compilation)
        tpl_mean = getattr(k._tpl_mean, "py_func", k._tpl_mean)
        cycle_s = tpl_mean(e.alpha_on, e.t_min_s, e.t_max_s) + tpl_mean(
            e.alpha_off, e.t_min_s, e.t_max_s
        )
        n_dwell = 2.0 * n_dots * duration / cycle_s
        if n_dwell > MAX_EXPECTED_CLICKS:
            raise ValueError(
                f"blinking would need ~{n_dwell:.3g} dwell periods (limit {MAX_EXPECTED_CLICKS});"
                " raise emitter.t_min_s or shorten duration_s"
            )

    ss = np.random.SeedSequence(int(seed))
    seeds = [int(v) for v in ss.generate_state(5, dtype=np.uint32)]
    s_emit, s_det0, s_det1 = seeds[0], (seeds[1], seeds[2]), (seeds[3], seeds[4])

    if x.mode == "pulsed":
        t_sig, ch_sig, sw, sw_off, start_on, on_dw, off_dw, on_frac, stats = k._pulsed_kernel(
            s_emit, n_dots, np.int64(n_pulses), np.int64(period_ps), p1, p2,
            float(x.mean_excitations), bool(e.multiexciton_ladder), float(e.eta_x), float(e.eta_xx), tau_x_ps, tau_xx_ps, bool(e.blinking),
            float(e.alpha_on), float(e.alpha_off), float(e.t_min_s), float(e.t_max_s),
            float(e.off_eta_scale), p_det, float(d.jitter_ps),
        )  # fmt: skip
    else:
        t_sig, ch_sig, sw, sw_off, start_on, on_dw, off_dw, on_frac, stats = k._cw_kernel(
            s_emit, n_dots, np.int64(duration_ps), x.mean_excitations / tau_x_ps,
            float(e.eta_x), float(e.eta_xx), tau_x_ps, tau_xx_ps, bool(e.blinking),
            float(e.alpha_on), float(e.alpha_off), float(e.t_min_s), float(e.t_max_s),
            float(e.off_eta_scale), p_det, float(d.jitter_ps),
        )  # fmt: skip

    dead_ps = np.int64(round(d.dead_time_ns * 1e3))
    per_ch_t = []
    per_ch_kind = []
    for ch, (s_noise, s_ap) in ((0, s_det0), (1, s_det1)):
        cand_t, cand_k = _candidates(
            t_sig[ch_sig == ch], duration_ps, d.background_rate_hz, d.dark_rate_hz, s_noise
        )
        tc, kc = k._detector_kernel(
            s_ap, cand_t, cand_k, np.int64(duration_ps), dead_ps, float(d.afterpulse_prob),
            d.afterpulse_delay_ns * 1e3,
        )  # fmt: skip
        if ch == 1 and d.cable_delay_ps:
            tc = tc + np.int64(d.cable_delay_ps)
        per_ch_t.append(tc)
        per_ch_kind.append(kc)

    t_all = np.concatenate(per_ch_t)
    c_all = np.concatenate(
        [np.zeros(per_ch_t[0].shape[0], np.uint8), np.ones(per_ch_t[1].shape[0], np.uint8)]
    )
    order = np.argsort(t_all, kind="stable")
    timestamps = np.ascontiguousarray(t_all[order], dtype=np.int64)
    channels = np.ascontiguousarray(c_all[order], dtype=np.uint8)

    def _count(kind: int) -> list[int]:
        return [int(np.count_nonzero(kc == kind)) for kc in per_ch_kind]

    counts_signal = _count(k.KIND_SIGNAL)
    n_rec = [int(kc.shape[0]) for kc in per_ch_kind]
    g2_single = expected_g2_zero(e, x)
    off_scale = float(e.off_eta_scale) if e.blinking else 1.0
    moments = _blink_moments(sw, sw_off, start_on, off_scale, duration_ps)
    ens = _ensemble_g2(g2_single, *moments)
    # photons emitted per second by one dot that is always on
    rate_on = photons_per_dot / (duration_ps * 1e-12)
    truth: dict[str, Any] = {
        "mode": x.mode,
        "n_dots": n_dots,
        "duration_s": duration,
        "n_pulses": n_pulses,
        "sync_period_ps": period_ps,
        "mean_excitations": float(x.mean_excitations),
        "p1": p1,
        "p2": p2,
        "eta_x": float(e.eta_x),
        "eta_xx": float(e.eta_xx),
        "tau_x_ns": float(e.tau_x_ns),
        "tau_xx_ns": float(e.tau_xx_ns),
        "g2_zero_single": g2_single,
        "g2_zero_expected": ens["short"],
        "g2_centre_singles_norm": ens["centre"],
        "g2_side_singles_norm": ens["side"],
        "blink_switch_ps": sw,
        "blink_offsets": sw_off,
        "blink_start_on": start_on,
        "signal_rate_hz_expected": rate_on * moments[0] * p_det,
        "on_fraction": float(np.mean(on_frac)),
        "on_fraction_per_dot": on_frac,
        "on_dwell_s": on_dw,
        "off_dwell_s": off_dw,
        "n_excitation_events": int(stats[0]),
        "n_biexcitons": int(stats[1]),
        "n_x_photons_emitted": int(stats[2]),
        "n_xx_photons_emitted": int(stats[3]),
        "counts_signal": counts_signal,
        "counts_background": _count(k.KIND_BACKGROUND),
        "counts_dark": _count(k.KIND_DARK),
        "counts_afterpulse": _count(k.KIND_AFTERPULSE),
        "rho": [counts_signal[i] / n_rec[i] if n_rec[i] else math.nan for i in range(2)],
        "dead_time_ps": int(dead_ps),
        "cable_delay_ps": int(d.cable_delay_ps),
        "seed": int(seed),
    }
    if x.mode == "pulsed":
        truth["period_over_tau_x"] = period_ps / tau_x_ps
    return PhotonStream(
        timestamps_ps=timestamps,
        channels=channels,
        sync_period_ps=int(period_ps),
        duration_s=duration_ps * 1e-12,
        truth=truth,
    )
