"""The photon front end: from a merged time-tag stream, as a photon-file reader or a rig
returns it, to what the photon estimators (g2, lifetime, blinking) take.

One rule for each step, used by scoring (`sdl.analysis.score` through `analyze_g2`), by
`sdl analyze g2|lifetime|blinking` and for every rig (a rig records the channels as the
time tagger numbered them; the choice is made here, at analysis time):

- sync detection (`sync_channel`): channel 0 is a time-tagged laser sync when at least
  `MIN_SYNC_EVENTS` of its events are spaced by whole laser periods;
- detector choice (`detector_channels`, `g2_detectors`): every channel but the sync, most
  populated first; g2 takes the two most populated, in ascending channel order;
- background fraction from the decay (`signal_fraction_from_decay`): rho = sqrt(r1 r2)
  from the flat floor of each detector's TCSPC decay (Brouri et al., Opt. Lett. 25, 1294
  (2000), for the correction g2 = (g2_raw - (1 - rho^2)) / rho^2);
- detector alignment (`align_detectors`, `aligned_decay_delays`): per-detector decays
  shifted onto the most populated one by FFT cross-correlation (cable delays).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "MIN_SYNC_EVENTS",
    "PhotonStream",
    "align_detectors",
    "aligned_decay_delays",
    "detector_channels",
    "g2_detectors",
    "signal_fraction_from_decay",
    "sync_channel",
]

#: A laser sync channel ticks once per period; fewer events than this are never taken
#: for one (a sparse detector channel could otherwise pass the spacing test by chance).
MIN_SYNC_EVENTS = 100
_SYNC_TEST_EVENTS = 1001  # intervals checked: the first 1000


@dataclass(frozen=True)
class PhotonStream:
    """A merged time-tag stream and its timing metadata.

    Attributes:
        timestamps_ps: (N,) int64 arrival times, ps, non-decreasing.
        channels: (N,) uint8 input channel of each time tag (0 may be the sync).
        sync_period_ps: laser period, ps; 0 for CW or unknown.
        resolution_ps: timestamp unit (T2) or delay bin (T3), ps.
        dtime_ps: (N,) int64 T3 delays after the sync, ps; None for T2 data.
    """

    timestamps_ps: np.ndarray
    channels: np.ndarray
    sync_period_ps: int = 0
    resolution_ps: float = 1.0
    dtime_ps: np.ndarray | None = None

    @property
    def is_t3(self) -> bool:
        """True when every photon carries its delay after the sync (TCSPC / T3)."""
        return self.dtime_ps is not None

    @classmethod
    def from_file(cls, data: Any, sync_period_ps: int | None = None) -> PhotonStream:
        """From a `sdl.analysis.photon_files.PhotonData`; `sync_period_ps` overrides the
        file's period (e.g. `--rep-rate`)."""
        period = data.sync_period_ps if sync_period_ps is None else sync_period_ps
        return cls(data.timestamps_ps, data.channels, int(period), float(data.resolution_ps),
                   data.dtime_ps)

    @classmethod
    def from_measurement(cls, raw: Any) -> PhotonStream:
        """From a `sdl.vocab.measurement.RawMeasurement` (photon_* fields)."""
        return cls(np.asarray(raw.photon_timestamps_ps, dtype=np.int64),
                   np.asarray(raw.photon_channels, dtype=np.uint8),
                   int(getattr(raw, "sync_period_ps", 0) or 0))


def sync_channel(stream: PhotonStream) -> int | None:
    """The channel of time-tagged laser sync events, if any (T2 data), else None.

    Channel 0 is the sync when the stream is T2, pulsed, has at least `MIN_SYNC_EVENTS`
    events on channel 0, and its first (up to 1000) intervals are whole multiples of the
    laser period within max(2 resolution, 0.1 % of P).
    """
    period = int(stream.sync_period_ps)
    if period <= 0 or stream.is_t3:
        return None
    ch = np.asarray(stream.channels)
    s = np.asarray(stream.timestamps_ps)[ch == 0]
    if s.size < MIN_SYNC_EVENTS:
        return None
    d = np.diff(s[:_SYNC_TEST_EVENTS]).astype(np.float64)
    r = d - np.round(d / period) * period
    tol = max(2 * float(stream.resolution_ps), 1e-3 * period)
    return 0 if bool(np.all(np.abs(r) <= tol) and np.all(d > 0)) else None


def detector_channels(stream: PhotonStream) -> list[int]:
    """Every channel but the sync, most populated first."""
    vals, cnt = np.unique(np.asarray(stream.channels), return_counts=True)
    sync = sync_channel(stream)
    order = np.argsort(cnt)[::-1]
    return [int(vals[i]) for i in order if int(vals[i]) != sync]


def g2_detectors(stream: PhotonStream) -> tuple[int, int] | None:
    """The two detectors of an HBT g2: the two most populated non-sync channels, in
    ascending order (start, stop); None when fewer than two carry photons."""
    dets = detector_channels(stream)
    if len(dets) < 2:
        return None
    a, b = sorted(dets[:2])
    return a, b


def _delays(stream: PhotonStream, detectors: tuple[int, ...]) -> np.ndarray:
    from sdl.analysis.lifetime import decay_delays

    return decay_delays(stream.timestamps_ps, stream.channels, int(stream.sync_period_ps),
                        dtime_ps=stream.dtime_ps, sync_channel=sync_channel(stream),
                        detectors=detectors)


def signal_fraction_from_decay(stream: PhotonStream,
                               detectors: tuple[int, int]) -> float | None:
    """rho = sqrt(r1 r2), r_i = S/(S+B) of detector i from the flat floor of its TCSPC
    decay (single-exponential fit, `sdl.analysis.lifetime.fit_lifetime`).

    Returns None when a detector has fewer than 100 photons, the fit fails or gives a
    fraction outside (0, 1] (pulsed data only: sync_period_ps > 0).
    """
    from sdl.analysis.lifetime import decay_histogram, fit_lifetime

    period = int(stream.sync_period_ps)
    rs = []
    for d in detectors:
        try:
            dl = _delays(stream, (d,))
            if dl.size < 100:
                return None
            e, c = decay_histogram(dl, period, max(1, period // 512))
            fit = fit_lifetime(c, e, period)
        except ValueError:
            return None
        if not (0 < fit.signal_fraction <= 1):
            return None
        rs.append(fit.signal_fraction)
    return float(np.sqrt(rs[0] * rs[1]))


def align_detectors(per_det: list[np.ndarray], period_ps: int,
                    bin_ps: int) -> tuple[np.ndarray, list[int]]:
    """Merge per-detector delays after removing their relative cable delays.

    Each detector's histogram is circularly cross-correlated (FFT) with the most populated
    one; its delays are shifted by the best lag (whole bins).

    Returns:
        (delays (M,) int64 in [0, P), shifts_ps: one per detector).
    """
    from sdl.analysis.lifetime import decay_histogram

    if not per_det:
        return np.zeros(0, np.int64), []
    ref = int(np.argmax([d.size for d in per_det]))
    _, h_ref = decay_histogram(per_det[ref], period_ps, bin_ps)
    f_ref = np.fft.rfft(h_ref.astype(np.float64))
    out, shifts = [], []
    for d in per_det:
        _, h = decay_histogram(d, period_ps, bin_ps)
        xc = np.fft.irfft(f_ref * np.conj(np.fft.rfft(h.astype(np.float64))), h.size)
        lag = int(np.argmax(xc))
        if lag > h.size // 2:
            lag -= h.size
        s = lag * bin_ps
        shifts.append(s)
        out.append(np.mod(d + s, period_ps))
    return np.concatenate(out), shifts


def aligned_decay_delays(stream: PhotonStream, detectors: list[int],
                         bin_ps: int) -> tuple[np.ndarray, list[int], str]:
    """TCSPC delays of `detectors`, each aligned onto the most populated one.

    Returns:
        (delays (M,) int64 ps in [0, P), shifts_ps per detector, phase_reference: "dtime"
        (T3), "sync_channel" (time-tagged sync) or "timestamp_mod_period").
    """
    per_det = [_delays(stream, (d,)) for d in detectors]
    delays, shifts = align_detectors(per_det, int(stream.sync_period_ps), bin_ps)
    ref = ("dtime" if stream.is_t3 else
           "sync_channel" if sync_channel(stream) is not None else "timestamp_mod_period")
    return delays, shifts, ref
