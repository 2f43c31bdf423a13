"""Raw data for the report's spectra and g2 panels: checked loading, absorbance, PL and
the coincidence histogram (from the analysis core).

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
from sdl.vocab.measurement import RawMeasurement

# Coincidence window: +/- this many laser periods (pulsed) and bins per period.
G2_PERIODS = 3
G2_BINS_PER_PERIOD = 50
# CW excitation has no period: +/- 100 ns in 1 ns bins.
G2_CW_MAX_DELAY_PS = 100_000
G2_CW_BIN_PS = 1_000


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
    except (RecordError, OSError) as err:
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
    """Counts of delays t(stop) - t(start) between the two detectors.

    Attributes:
        edges_ps: (B + 1,) int64 bin edges, ps; bin k is [edges[k], edges[k+1]).
        counts: (B,) int64 pair counts (every pair, not only the next photon).
        detectors: (start channel, stop channel).
    """

    edges_ps: np.ndarray
    counts: np.ndarray
    detectors: tuple[int, int]


def g2_window(sync_period_ps: int) -> tuple[int, int]:
    """(max_delay_ps, bin_ps) of the report's histogram: +/- 3 periods (pulsed) or
    +/- 100 ns (CW, sync_period_ps == 0); max_delay is a whole number of bins."""
    if sync_period_ps > 0:
        bin_ps = max(1, int(sync_period_ps) // G2_BINS_PER_PERIOD)
        nbins = -(-G2_PERIODS * int(sync_period_ps) // bin_ps)
        return nbins * bin_ps, bin_ps
    return G2_CW_MAX_DELAY_PS, G2_CW_BIN_PS


def coincidence_histogram(timestamps_ps: np.ndarray, channels: np.ndarray, max_delay_ps: int,
                          bin_ps: int) -> CoincidenceHistogram:
    """All-pairs histogram of the delays t2 - t1 in [-max_delay_ps, max_delay_ps), through
    the analysis core (`sdl.analysis.g2.detector_streams`,
    `sdl.analysis.g2_kernels.cross_correlation_counts`; numba, compiled on first use).

    Args:
        timestamps_ps: (N,) int64 detection times, ps, non-decreasing.
        channels: (N,) integer detector index (channels 0 and 1 when both are present).
        max_delay_ps: half width of the window, ps (a multiple of `bin_ps`).
        bin_ps: bin width, ps (>= 1).

    Raises:
        ValueError: bad dtype/shape/order (from the analysis core).
    """
    from sdl.analysis.g2 import detector_streams
    from sdl.analysis.g2_kernels import cross_correlation_counts, linear_edges

    t1, t2, dets = detector_streams(np.asarray(timestamps_ps), np.asarray(channels))
    edges = linear_edges(int(max_delay_ps), int(bin_ps))
    return CoincidenceHistogram(edges, cross_correlation_counts(t1, t2, edges), dets)
