"""What the spectral analysis reads from a raw measurement's metadata.

The raw measurement itself is the vocabulary's `sdl.vocab.measurement.RawMeasurement`
(or one loaded from an HDF5 raw file, same attributes); its fields are documented there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sdl.analysis.estimate import NoOutcome

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
