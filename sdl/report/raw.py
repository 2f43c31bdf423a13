"""Raw data for the report's spectra and g2 panels: checked loading, absorbance, PL and
a plain-numpy coincidence histogram.

Absorbance follows Beer-Lambert with dark subtraction, A = -log10((S - D) / (R - D))
(S sample, R solvent reference, D dark counts; e.g. Skoog, Holler & Crouch, "Principles
of Instrumental Analysis", ch. 13). Pixels where S - D or R - D is not positive have no
defined absorbance and are NaN (not plotted). PL is sample counts minus dark counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdl.errors import RecordError
from sdl.state import ExperimentState
from simulator.measurement import RawMeasurement

# Coincidence window: +/- this many laser periods (pulsed) and bins per period.
G2_PERIODS = 3
G2_BINS_PER_PERIOD = 50
# CW excitation has no period: +/- 100 ns in 1 ns bins.
G2_CW_MAX_DELAY_PS = 100_000
G2_CW_BIN_PS = 1_000
# Stop counting after this many pairs (keeps a report quick on long acquisitions).
G2_MAX_PAIRS = 5_000_000


def load_checked(run_dir: Path, e: ExperimentState) -> tuple[RawMeasurement | None, str]:
    """The raw file of `e` if present, inside the run directory and matching its recorded
    sha256; otherwise (None, why not)."""
    if not e.raw_file:
        return None, f"{e.experiment_id}: no raw file recorded"
    root = run_dir.resolve()
    path = (run_dir / e.raw_file).resolve()
    if root not in path.parents:
        return None, f"{e.experiment_id}: recorded raw file {e.raw_file!r} is outside the run"
    from sdl.rawfile import load_raw

    try:
        return load_raw(path, expected_sha256=e.sha256), ""
    except RecordError as err:
        return None, f"{e.experiment_id}: skipped, {err}"


def absorbance(raw: RawMeasurement) -> np.ndarray:
    """(P,) absorbance, NaN where sample or reference counts do not exceed the dark."""
    s = np.asarray(raw.abs_sample_counts, np.float64) - np.asarray(raw.abs_dark_counts, np.float64)
    r = np.asarray(raw.abs_reference_counts, np.float64) - np.asarray(raw.abs_dark_counts,
                                                                       np.float64)
    out = np.full(s.shape, np.nan)
    ok = (s > 0) & (r > 0)
    out[ok] = -np.log10(s[ok] / r[ok])
    return out


def pl_counts(raw: RawMeasurement) -> np.ndarray:
    """(P,) PL sample counts minus the PL dark counts."""
    return np.asarray(raw.pl_sample_counts, np.float64) - np.asarray(raw.pl_dark_counts,
                                                                     np.float64)


@dataclass
class CoincidenceHistogram:
    """Counts of delays t(channel 1) - t(channel 0).

    Attributes:
        edges_ps: (B + 1,) int64 bin edges, ps; bin k is [edges[k], edges[k+1]).
        counts: (B,) int64 pair counts.
        photons_used: channel-0 photons whose pairs were all counted (a prefix of the
            stream when the pair budget ran out).
        photons_total: channel-0 photons in the stream.
    """

    edges_ps: np.ndarray
    counts: np.ndarray
    photons_used: int
    photons_total: int


def g2_window(sync_period_ps: int) -> tuple[int, int]:
    """(max_delay_ps, bin_ps) of the report's histogram: +/- 3 periods (pulsed) or
    +/- 100 ns (CW, sync_period_ps == 0); max_delay is a whole number of bins."""
    if sync_period_ps > 0:
        bin_ps = max(1, int(sync_period_ps) // G2_BINS_PER_PERIOD)
        nbins = -(-G2_PERIODS * int(sync_period_ps) // bin_ps)
        return nbins * bin_ps, bin_ps
    return G2_CW_MAX_DELAY_PS, G2_CW_BIN_PS


def coincidence_histogram(timestamps_ps: np.ndarray, channels: np.ndarray, max_delay_ps: int,
                          bin_ps: int, *, max_pairs: int = G2_MAX_PAIRS) -> CoincidenceHistogram:
    """Histogram of all pairwise delays t1[j] - t0[i] in [-max_delay_ps, max_delay_ps).

    Every pair counts (not only the next photon), as in a start-multistop correlator.

    Args:
        timestamps_ps: (N,) int64 detection times, ps, non-decreasing.
        channels: (N,) detector index; channel 0 starts, channel 1 stops.
        max_delay_ps: half width of the window, ps (a multiple of `bin_ps`).
        bin_ps: bin width, ps (> 0).
        max_pairs: count only the channel-0 prefix whose pairs fit this budget.

    Returns:
        A `CoincidenceHistogram` with 2 * max_delay_ps / bin_ps bins.
    """
    t = np.asarray(timestamps_ps, dtype=np.int64)
    ch = np.asarray(channels)
    if t.ndim != 1 or ch.shape != t.shape:
        raise ValueError("timestamps and channels must be 1-D arrays of the same length")
    if bin_ps <= 0 or max_delay_ps <= 0 or max_delay_ps % bin_ps:
        raise ValueError("need bin_ps > 0 and max_delay_ps a positive multiple of bin_ps")
    nbins = 2 * max_delay_ps // bin_ps
    edges = np.arange(nbins + 1, dtype=np.int64) * bin_ps - max_delay_ps
    t0 = np.sort(t[ch == 0], kind="stable")
    t1 = np.sort(t[ch == 1], kind="stable")
    lo = np.searchsorted(t1, t0 - max_delay_ps, side="left")
    hi = np.searchsorted(t1, t0 + max_delay_ps, side="left")
    n = (hi - lo).astype(np.int64)
    cum = np.cumsum(n)
    used = int(np.searchsorted(cum, max_pairs, side="right"))
    n, lo, cum = n[:used], lo[:used], cum[:used]
    total = int(cum[-1]) if used else 0
    starts = np.repeat(np.arange(used), n)
    offset = np.arange(total, dtype=np.int64) - np.repeat(cum - n, n)
    delays = t1[lo[starts] + offset] - t0[starts]
    counts = np.bincount((delays + max_delay_ps) // bin_ps, minlength=nbins)[:nbins]
    return CoincidenceHistogram(edges, counts.astype(np.int64), used, int(t0.size))
