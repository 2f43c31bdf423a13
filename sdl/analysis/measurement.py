"""What the spectral analysis reads from a raw measurement, as a `typing.Protocol`.

`sdl.analysis` never imports `simulator` (it is a standalone numeric core): it reads a
`sdl.vocab.measurement.RawMeasurement` (or anything shaped like it, e.g. one loaded from
an HDF5 raw file) through the attribute names below only.

Array shapes: P = number of spectrometer pixels, N = number of detected photons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sdl.analysis.estimate import NoOutcome

#: Planck constant times speed of light, eV nm (CODATA 2018 exact h, c, e).
HC_EV_NM = 1239.8419843320026

#: Metadata keys the spectral scoring may read (see `sdl/vocab/measurement.py`).
METADATA_KEYS = (
    "material",
    "path_length_cm",
    "abs_integration_s",
    "pl_integration_s",
    "excitation_nm",
    "reference_plqy",
    "reference_absorbance",
    "solvent_index",
    "reference_solvent_index",
    "feed_metal_molar",
    "sample_dilution",
    "saturation_counts",
    "acquisition_s",
)


@runtime_checkable
class RawSpectra(Protocol):
    """The attributes of a raw measurement that `sdl.analysis.score` reads.

    Attributes:
        wavelengths_nm: (P,) pixel wavelengths in nm, increasing.
        abs_dark_counts: (P,) dark counts of the absorbance channel.
        abs_reference_counts: (P,) lamp counts through the solvent reference.
        abs_sample_counts: (P,) lamp counts through the sample.
        pl_dark_counts: (P,) dark counts of the PL channel.
        pl_sample_counts: (P,) sample photoluminescence counts.
        pl_reference_counts: (P,) reference-dye PL counts, same settings.
        photon_timestamps_ps: (N,) int64 detection times in ps, or None.
        photon_channels: (N,) uint8 detector index, or None.
        sync_period_ps: laser repetition period in ps (0 for CW).
        metadata: plain values, keys in `METADATA_KEYS`.
        failure: None, or an object with `kind`, `reason`, `detail` attributes.
    """

    wavelengths_nm: np.ndarray
    abs_dark_counts: np.ndarray
    abs_reference_counts: np.ndarray
    abs_sample_counts: np.ndarray
    pl_dark_counts: np.ndarray
    pl_sample_counts: np.ndarray
    pl_reference_counts: np.ndarray
    photon_timestamps_ps: np.ndarray | None
    photon_channels: np.ndarray | None
    sync_period_ps: int
    metadata: Mapping[str, Any]
    failure: Any


def meta_float(metadata: Mapping[str, Any], key: str) -> float | NoOutcome:
    """One numeric metadata value, or `NoOutcome("missing_metadata:<key>")`.

    Args:
        metadata: the raw measurement's metadata mapping.
        key: the key to read.

    Returns:
        The value as a finite float, or a NoOutcome naming the key when it is absent,
        not a number, or not finite.
    """
    if key not in metadata or metadata[key] is None:
        return NoOutcome(f"missing_metadata:{key}", f"metadata has no {key!r}")
    try:
        value = float(metadata[key])
    except (TypeError, ValueError):
        return NoOutcome(f"missing_metadata:{key}", f"metadata {key!r} is not a number")
    if not math.isfinite(value):
        return NoOutcome(f"missing_metadata:{key}", f"metadata {key!r} is not finite")
    return value
