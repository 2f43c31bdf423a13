"""Second-order correlation g2 from two-channel time tags (HBT), CW and pulsed.

Formulas (DOMAIN.md §7):
- CW normalisation: `g2(tau_k) = C_k T / (N1 N2 dtau_k)`.
- Pulsed: `g2(0) = A0 / mean(A_k, k != 0)`, `sigma = g2(0) sqrt(1/A0 + 1/sum_k A_k)`
  (Poisson errors of the centre and the summed side areas).
- Background (Brouri et al., Opt. Lett. 25, 1294 (2000)): `rho = S/(S+B)`,
  `g2_true(0) = (g2_meas(0) - (1 - rho^2)) / rho^2`.

Entry points: `g2_zero_from_stream` (the scoring API: an `Estimate` or a `NoOutcome`) and
`analyze_g2` (the full result used by `sdl analyze g2`). The coincidence histogram is
`sdl.analysis.g2_kernels.cross_correlation_counts`; model fits are in `g2_fit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.g2_kernels import cross_correlation_counts, linear_edges
from sdl.analysis.photon_frontend import PhotonStream, g2_detectors

__all__ = [
    "detector_streams",
    "normalize_cw",
    "pulsed_area_ratio",
    "locate_peak_comb",
    "PulsedAreas",
    "CombLocation",
    "brouri_correct",
    "G2Result",
    "analyze_g2",
    "g2_zero_from_stream",
]

# overlapping-peak fit when the repetition period is below this many lifetimes
OVERLAP_PERIODS_PER_LIFETIME = 10.0
# side peaks used on each side for the pulsed area ratio
N_SIDE_PEAKS = 10
# minimum summed side-peak counts (pulsed) / fit-window counts (CW) for an outcome
MIN_SIDE_COUNTS = 20
MIN_CW_COUNTS = 200


def detector_streams(
    timestamps_ps: np.ndarray,
    channels: np.ndarray,
    detectors: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Split a merged time-tag stream into the two detector streams.

    Args:
        timestamps_ps: (N,) int64 time tags, ps, non-decreasing.
        channels: (N,) uint8 (or integer) channel of each tag.
        detectors: the two channel numbers (start, stop); default: the photon front end's
            choice (`sdl.analysis.photon_frontend.g2_detectors`, no sync period known here).

    Returns:
        (t1, t2, (c1, c2)): int64 time tags of each detector (each non-decreasing).

    Raises:
        ValueError: bad dtype/shape/order, or fewer than two channels.
    """
    t, ch = _check_stream(timestamps_ps, channels)
    if detectors is None:
        detectors = g2_detectors(PhotonStream(t, ch))
        if detectors is None:
            raise ValueError("g2 needs photons on two detector channels, found "
                             f"{np.unique(ch).tolist()}")
    c1, c2 = int(detectors[0]), int(detectors[1])
    t1 = np.ascontiguousarray(t[ch == c1])
    t2 = np.ascontiguousarray(t[ch == c2])
    for name, tt in ((f"channel {c1}", t1), (f"channel {c2}", t2)):
        if tt.size > 1 and np.any(tt[1:] < tt[:-1]):
            raise ValueError(
                f"time tags of {name} are not monotonic (non-decreasing) — check the file reader"
            )
    return t1, t2, (c1, c2)


def _check_stream(timestamps_ps: np.ndarray, channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(timestamps_ps)
    ch = np.asarray(channels)
    if t.ndim != 1 or ch.ndim != 1 or t.shape != ch.shape:
        raise ValueError(
            f"timestamps_ps and channels must be 1-D of equal length, got {t.shape} and {ch.shape}"
        )
    if t.dtype != np.int64:
        raise ValueError(f"timestamps_ps must be int64 picoseconds, got {t.dtype}")
    if not np.issubdtype(ch.dtype, np.integer):
        raise ValueError(f"channels must be an integer array (uint8), got {ch.dtype}")
    return t, ch


def normalize_cw(
    counts: np.ndarray, edges_ps: np.ndarray, n1: int, n2: int, duration_ps: float
) -> np.ndarray:
    """CW normalisation `g2_k = C_k T / (N1 N2 dtau_k)` (DOMAIN.md §7).

    Args:
        counts: (K,) raw coincidence counts.
        edges_ps: (K+1,) bin edges, ps.
        n1, n2: photons in each channel; duration_ps: acquisition time T, ps.

    Returns:
        (K,) float64 g2 values (1 for uncorrelated streams).
    """
    c = np.asarray(counts, dtype=np.float64)
    dtau = np.diff(np.asarray(edges_ps, dtype=np.float64))
    if c.shape != dtau.shape:
        raise ValueError(f"counts has shape {c.shape}, edges imply {dtau.shape}")
    if n1 <= 0 or n2 <= 0 or duration_ps <= 0:
        raise ValueError("n1, n2 and duration_ps must be positive")
    return c * float(duration_ps) / (float(n1) * float(n2) * dtau)


def brouri_correct(g2_measured: float, rho: float, g2_stderr: float = 0.0) -> tuple[float, float]:
    """Background correction of Brouri et al. (Opt. Lett. 25, 1294, 2000).

    `g2_true(0) = (g2_meas(0) - (1 - rho^2)) / rho^2`, `rho = S / (S + B)`.

    Args:
        g2_measured: measured g2(0); rho: signal fraction in (0, 1]; g2_stderr: its error.

    Returns:
        (corrected value, propagated stderr = g2_stderr / rho^2).
    """
    if not (0.0 < rho <= 1.0):
        raise ValueError(f"rho = S/(S+B) must be in (0, 1], got {rho}")
    r2 = rho * rho
    return (g2_measured - (1.0 - r2)) / r2, g2_stderr / r2


@dataclass(frozen=True)
class CombLocation:
    """Where the pulsed coincidence peaks sit.

    Attributes:
        offset_ps: delay of the centre peak (cable delay), in [-P/2, P/2).
        tau_ps: decay constant of the peaks (~ emitter lifetime), ps, from the folded profile.
        period_ps: repetition period, ps.
    """

    offset_ps: float
    tau_ps: float
    period_ps: int


def locate_peak_comb(
    t1: np.ndarray, t2: np.ndarray, period_ps: int, *, n_side: int = N_SIDE_PEAKS
) -> CombLocation:
    """Find the cable delay and the peak width of a pulsed g2 from the data alone.

    The delays over `±(n_side + 1/2) P` are folded modulo P and fitted with the periodic
    sum of two-sided decays `B + A sum_m exp(-|x - phi - m P|/tau)` (closed form in
    `g2_fit.periodic_two_sided_exp`); the centre tooth is the one nearest zero delay.

    Args:
        t1, t2: int64 time tags (ps) of the two detectors; period_ps: laser period, ps.
        n_side: side peaks on each side used for the fold.
    """
    from scipy import optimize

    from sdl.analysis.g2_fit import periodic_two_sided_exp

    P = int(period_ps)
    nph = int(min(256, max(8, P)))
    w = max(1, P // nph)
    nph = P // w
    span = (n_side + 1) * P
    edges = linear_edges(span, w)
    counts = cross_correlation_counts(t1, t2, edges)
    centres = 0.5 * (edges[:-1] + edges[1:]).astype(np.float64)
    phase_bin = (np.mod(centres, P) * nph // P).astype(np.int64) % nph
    fold = np.bincount(phase_bin, weights=counts, minlength=nph).astype(np.float64)
    x = (np.arange(nph) + 0.5) * P / nph
    if fold.sum() <= 0:
        return CombLocation(0.0, float("nan"), P)
    sm = np.convolve(np.concatenate([fold[-2:], fold, fold[:2]]), np.ones(5) / 5, mode="valid")
    k = int(np.argmax(sm))
    phi0 = x[k]
    hm = sm.min() + 0.5 * (sm.max() - sm.min())
    above = int(np.sum(sm > hm))
    tau0 = max(above * P / nph / 2 / np.log(2), P / nph)
    B0 = float(sm.min())
    A0 = float(sm.max() - sm.min())

    def resid(p):
        B, A, tau, phi = p
        m = B + A * periodic_two_sided_exp(x - phi, P, tau) * np.sinh(
            min(P / (2 * tau), 300)
        ) / np.cosh(min(P / (2 * tau), 300))
        return (fold - m) / np.sqrt(np.maximum(m, 1.0))

    try:
        res = optimize.least_squares(
            resid,
            [B0, max(A0, 1.0), tau0, phi0],
            bounds=([0, 0, 0.2 * P / nph, phi0 - P / 2], [np.inf, np.inf, 10 * P, phi0 + P / 2]),
            x_scale=[max(B0, 1), max(A0, 1), tau0, P / nph],
        )
        _, _, tau, phi = res.x
    except (ValueError, np.linalg.LinAlgError):
        tau, phi = tau0, phi0
    off = float(np.mod(phi + P / 2, P) - P / 2)
    return CombLocation(off, float(tau), P)


@dataclass(frozen=True)
class PulsedAreas:
    """Pulsed centre/side area ratio.

    Attributes:
        g2_zero, stderr: A0 / mean(A_k), `g2 sqrt(1/A0 + 1/sum A_k)` (A0 -> max(A0, 1)).
        centre_area: counts in the centre window; side_areas: (2 n_side,) counts.
        offset_ps: centre-peak delay; window_ps: window width (one period) centred on each peak.
    """

    g2_zero: float
    stderr: float
    centre_area: int
    side_areas: np.ndarray
    offset_ps: float
    window_ps: int


def pulsed_area_ratio(
    t1: np.ndarray,
    t2: np.ndarray,
    period_ps: int,
    *,
    offset_ps: float | None = None,
    n_side: int = N_SIDE_PEAKS,
    window_ps: int | None = None,
) -> PulsedAreas:
    """Centre/side peak-area ratio of a pulsed HBT measurement.

    Windows of `window_ps` (default one period, so the windows tile the delay axis) are
    centred on `offset_ps + m P`, m = -n_side..n_side; counts come straight from the
    coincidence kernel with one bin per window.

    Args:
        t1, t2: int64 time tags, ps; period_ps: laser period, ps (> 0).
        offset_ps: centre-peak delay; default found by `locate_peak_comb`.
        n_side: side peaks per side; window_ps: integration window, <= period.

    Returns:
        PulsedAreas (formulas: DOMAIN.md §7).
    """
    P = int(period_ps)
    if P <= 0:
        raise ValueError(f"period_ps must be > 0 for a pulsed analysis, got {period_ps}")
    if n_side < 1:
        raise ValueError("n_side must be >= 1")
    if offset_ps is None:
        offset_ps = locate_peak_comb(t1, t2, P, n_side=n_side).offset_ps
    W = P if window_ps is None else int(window_ps)
    if not (0 < W <= P):
        raise ValueError(f"window_ps must be in (0, period], got {W}")
    off = int(round(offset_ps))
    if W == P:
        edges = off - W // 2 + P * np.arange(-n_side, n_side + 2, dtype=np.int64)
        areas = cross_correlation_counts(t1, t2, edges)
    else:
        m = np.arange(-n_side, n_side + 1, dtype=np.int64)
        lefts = off - W // 2 + P * m
        edges = np.empty(2 * m.size, dtype=np.int64)
        edges[0::2] = lefts
        edges[1::2] = lefts + W
        areas = cross_correlation_counts(t1, t2, edges)[0::2]
    a0 = int(areas[n_side])
    side = np.concatenate([areas[:n_side], areas[n_side + 1 :]]).astype(np.int64)
    tot = int(side.sum())
    if tot == 0:
        return PulsedAreas(float("nan"), float("nan"), a0, side, float(offset_ps), W)
    g = a0 / (tot / side.size)
    a0e = max(a0, 1)
    se = (a0e / (tot / side.size)) * np.sqrt(1.0 / a0e + 1.0 / tot)
    return PulsedAreas(float(g), float(se), a0, side, float(offset_ps), W)


@dataclass
class G2Result:
    """Full g2 analysis of one stream (what `sdl analyze g2` prints).

    Attributes:
        g2_zero, g2_zero_stderr: the headline value (raw, i.e. not background corrected).
        method: "pulsed_area_ratio", "pulsed_overlap_fit" or "cw_antibunching_fit".
        mode: "cw" or "pulsed".
        window_ps: integration window (pulsed) or fit half-window (CW), ps.
        edges_ps, counts: the histogram shown/fitted (for plots).
        g2_curve: normalised g2 per bin (CW normalisation, or side-peak mean for pulsed).
        details: extra numbers (delay, lifetime, chi2/dof, counts, ...).
    """

    g2_zero: float
    g2_zero_stderr: float
    method: str
    mode: str
    window_ps: float
    edges_ps: np.ndarray
    counts: np.ndarray
    g2_curve: np.ndarray
    n1: int
    n2: int
    duration_ps: float
    details: dict = field(default_factory=dict)


def _pulsed_result(g2_zero: float, stderr: float, method: str, window_ps: float,
                   edges: np.ndarray, counts: np.ndarray, side_area: float, period_ps: int,
                   t1: np.ndarray, t2: np.ndarray, duration_ps: float,
                   details: dict) -> G2Result:
    """A pulsed `G2Result`, its curve normalised by the side-peak area `side_area`
    (counts per period-wide bin: counts / side_area * period / bin width)."""
    curve = counts / max(side_area, 1e-300) * (period_ps / np.diff(edges))
    return G2Result(g2_zero, stderr, method, "pulsed", window_ps, edges, counts, curve,
                    t1.size, t2.size, duration_ps, details)


def _duration_ps(t1: np.ndarray, t2: np.ndarray, duration_s: float | None) -> float:
    if duration_s is not None:
        if not (duration_s > 0):
            raise ValueError(f"duration_s must be > 0, got {duration_s}")
        return float(duration_s) * 1e12
    lo = min(t1[0], t2[0])
    hi = max(t1[-1], t2[-1])
    return float(max(hi - lo, 1))


def _analyze_pulsed(t1, t2, P, duration_ps, force_overlap: bool | None) -> G2Result | NoOutcome:
    from sdl.analysis.g2_fit import fit_pulsed_overlap

    comb = locate_peak_comb(t1, t2, P)
    tau = comb.tau_ps
    overlap = (
        force_overlap
        if force_overlap is not None
        else bool(np.isfinite(tau) and P < OVERLAP_PERIODS_PER_LIFETIME * tau)
    )
    if not overlap:
        pa = pulsed_area_ratio(t1, t2, P, offset_ps=comb.offset_ps)
        if int(pa.side_areas.sum()) < MIN_SIDE_COUNTS:
            return NoOutcome(
                "too_few_counts", f"only {int(pa.side_areas.sum())} side-peak coincidences"
            )
        edges = linear_edges((N_SIDE_PEAKS + 1) * P, max(1, P // 200))
        counts = cross_correlation_counts(t1, t2, edges)
        mean_side = pa.side_areas.mean()
        return _pulsed_result(
            pa.g2_zero, pa.stderr, "pulsed_area_ratio", float(pa.window_ps), edges, counts,
            mean_side, P, t1, t2, duration_ps,
            {
                "delay_ps": pa.offset_ps,
                "peak_tau_ps": tau,
                "centre_area": pa.centre_area,
                "side_area_mean": float(mean_side),
                "n_side_peaks": int(pa.side_areas.size),
                "period_ps": P,
            },
        )
    nper = 4
    bin_ps = max(1, int(min(P / 100, max(tau, 1) / 10)))
    edges = linear_edges(nper * P + P // 2, bin_ps)
    edges = edges + int(round(comb.offset_ps))
    counts = cross_correlation_counts(t1, t2, edges)
    if counts.sum() < MIN_CW_COUNTS:
        return NoOutcome(
            "too_few_counts", f"only {int(counts.sum())} coincidences within ±{nper} periods"
        )
    fit = fit_pulsed_overlap(
        counts, edges, P, delay_guess_ps=comb.offset_ps, tau_guess_ps=min(tau, 5 * P)
    )
    if not np.isfinite(fit.g2_zero_stderr) or fit.g2_zero_stderr <= 0:
        return NoOutcome(
            "fit_failed", "overlapping-peak fit did not converge to a finite uncertainty"
        )
    return _pulsed_result(
        fit.g2_zero, fit.g2_zero_stderr, "pulsed_overlap_fit", float(edges[-1] - edges[0]) / 2,
        edges, counts, fit.side_area, P, t1, t2, duration_ps,
        {
            "delay_ps": fit.delay_ps,
            "peak_tau_ps": fit.tau_ps,
            "jitter_ps": fit.jitter_ps,
            "side_area": fit.side_area,
            "chi2_dof": fit.chi2_dof,
            "period_ps": P,
        },
    )


def _analyze_cw(t1, t2, duration_ps, jitter_ps) -> G2Result | NoOutcome:
    from sdl.analysis.g2_fit import fit_cw_antibunching

    n1, n2 = t1.size, t2.size
    # pass 1: coarse, wide window; pass 2: window and bins from the fitted tau0
    half, bin_ps = 1_000_000, 1000
    fit = None
    for _ in range(2):
        edges = linear_edges(half, bin_ps)
        counts = cross_correlation_counts(t1, t2, edges)
        if counts.sum() < MIN_CW_COUNTS:
            return NoOutcome(
                "too_few_counts", f"only {int(counts.sum())} coincidences within ±{half / 1e3:g} ns"
            )
        guess = fit.tau0_ps if fit is not None else None
        fit = fit_cw_antibunching(
            counts, edges, n1, n2, duration_ps, jitter_ps=jitter_ps, tau0_guess_ps=guess
        )
        t0 = max(fit.tau0_ps, 1.0)
        sg = fit.jitter_ps
        new_bin = int(max(1, min(t0 / 10, max(sg, t0 / 40))))
        new_half = int(max(25 * t0 + 5 * sg + abs(fit.delay_ps), 60 * new_bin))
        if new_half >= half and new_bin >= bin_ps:
            break
        half, bin_ps = new_half, new_bin
    if not fit.success or not np.isfinite(fit.g2_zero_stderr) or fit.g2_zero_stderr <= 0:
        return NoOutcome(
            "fit_failed", "CW antibunching fit did not converge to a finite uncertainty"
        )
    curve = normalize_cw(counts, edges, n1, n2, duration_ps)
    return G2Result(
        fit.g2_zero,
        fit.g2_zero_stderr,
        "cw_antibunching_fit",
        "cw",
        float(half),
        edges,
        counts,
        curve,
        n1,
        n2,
        duration_ps,
        {
            "delay_ps": fit.delay_ps,
            "tau0_ps": fit.tau0_ps,
            "tau0_stderr_ps": fit.stderrs.get("tau0_ps", float("nan")),
            "jitter_ps": fit.jitter_ps,
            "amplitude": fit.amplitude,
            "chi2_dof": fit.chi2_dof,
            "bin_ps": int(edges[1] - edges[0]),
        },
    )


def analyze_g2(
    timestamps_ps: np.ndarray,
    channels: np.ndarray,
    sync_period_ps: int,
    *,
    duration_s: float | None = None,
    mode: str | None = None,
    detectors: tuple[int, int] | None = None,
    overlap: bool | None = None,
    jitter_ps: float | None = None,
) -> G2Result | NoOutcome:
    """g2(0) of a two-detector stream, with the histogram and fit details.

    Args:
        timestamps_ps: (N,) int64 ps; channels: (N,) uint8.
        sync_period_ps: laser period in ps; 0 = CW.
        duration_s: acquisition time (default: span of the tags).
        mode: "cw" or "pulsed" (default: pulsed iff sync_period_ps > 0).
        detectors: the two detector channels (default: the photon front end's choice,
            `sdl.analysis.photon_frontend.g2_detectors`, which leaves a time-tagged sync out).
        overlap: force (True) or forbid (False) the overlapping-peak fit (pulsed).
        jitter_ps: fix the Gaussian jitter in the CW fit (default: fitted).

    Returns:
        G2Result, or NoOutcome("no_photons" | "too_few_counts" | "fit_failed", detail).
    """
    if sync_period_ps is None or int(sync_period_ps) != sync_period_ps or sync_period_ps < 0:
        raise ValueError(
            f"sync_period_ps must be a whole number of ps >= 0 (0 = CW), got {sync_period_ps!r}"
        )
    if mode is None:
        mode = "pulsed" if sync_period_ps > 0 else "cw"
    if mode not in ("cw", "pulsed"):
        raise ValueError(f"mode must be 'cw' or 'pulsed', got {mode!r}")
    if mode == "pulsed" and not (sync_period_ps and sync_period_ps > 0):
        raise ValueError("pulsed mode needs the repetition period (sync_period_ps > 0)")
    t, ch = _check_stream(timestamps_ps, channels)
    if detectors is None:
        detectors = g2_detectors(PhotonStream(t, ch, int(sync_period_ps)))
        if detectors is None:
            return NoOutcome("no_photons", "photons on fewer than two detector channels "
                             f"({np.unique(ch).tolist()})")
    t1, t2, _ = detector_streams(t, ch, detectors)
    if t1.size == 0 or t2.size == 0:
        return NoOutcome(
            "no_photons", f"detector photon counts {t1.size} and {t2.size}: need both > 0"
        )
    T = _duration_ps(t1, t2, duration_s)
    if mode == "pulsed":
        return _analyze_pulsed(t1, t2, int(sync_period_ps), T, overlap)
    return _analyze_cw(t1, t2, T, jitter_ps)


def g2_zero_from_stream(
    timestamps_ps: np.ndarray,
    channels: np.ndarray,
    sync_period_ps: int,
    *,
    duration_s: float | None = None,
) -> Estimate | NoOutcome:
    """g2(0) with its standard error from a merged two-detector time-tag stream.

    Pulsed (sync_period_ps > 0): centre/side area ratio, or the overlapping-peak fit when
    the period is shorter than ~10 lifetimes. CW (0): antibunching fit with fitted delay
    and jitter. The value is the raw (not background-corrected) g2(0).

    Args:
        timestamps_ps: (N,) int64 detection times, ps, non-decreasing.
        channels: (N,) uint8 detector index (0 or 1).
        sync_period_ps: laser repetition period, ps; 0 for CW.
        duration_s: acquisition time, s (default: span of the time tags).

    Returns:
        Estimate(g2(0), stderr) or NoOutcome("no_photons" | "too_few_counts" | "fit_failed").
    """
    t = np.asarray(timestamps_ps)
    if t.size == 0:
        return NoOutcome("no_photons", "empty photon stream")
    r = analyze_g2(timestamps_ps, channels, sync_period_ps, duration_s=duration_s)
    if isinstance(r, NoOutcome):
        return r
    return Estimate(r.g2_zero, r.g2_zero_stderr)
