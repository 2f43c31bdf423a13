"""`RawMeasurement`: what a rig returns for one experiment, as plain data.

Produced by `simulator.SimulatedRig` and `hardware.FlowRig`, scored by
`sdl.analysis.score`, saved by `sdl.rawfile` to `raw/<experiment_id>.h5`. Part of the
shared vocabulary (`sdl.vocab`), a leaf that every producer and consumer may import.

Array shapes: P = number of spectrometer pixels, N = number of detected photons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Failure kinds, the `kind` of a `failed` event in the record.
FAILURE_KINDS = ("equipment", "clog", "unviable", "interlock", "device", "rejected")


@dataclass(frozen=True)
class Failure:
    """Why an experiment produced no usable sample.

    Attributes:
        kind: one of FAILURE_KINDS.
        reason: machine-readable reason code, e.g. "clog:fouling", "equipment:pump_fault".
        detail: one human-readable sentence.
    """

    kind: str
    reason: str
    detail: str = ""


@dataclass
class RawMeasurement:
    """Raw data of one experiment.

    Attributes:
        experiment_id: id given by the loop (e.g. "e0007").
        conditions: the conditions actually run (complete, defaults filled in).
        wavelengths_nm: (P,) float64 pixel wavelengths, increasing.
        abs_dark_counts: (P,) float64 dark counts, absorbance channel (shutter closed).
        abs_reference_counts: (P,) float64 lamp through solvent reference.
        abs_sample_counts: (P,) float64 lamp through the sample.
        pl_dark_counts: (P,) float64 dark counts, PL channel.
        pl_sample_counts: (P,) float64 sample photoluminescence counts.
        pl_reference_counts: (P,) float64 PL counts of the reference dye, same settings.
        photon_timestamps_ps: (N,) int64 detection times, picoseconds, non-decreasing;
            None when photon statistics were not measured.
        photon_channels: (N,) uint8 detector index (0 or 1); None with the timestamps.
        sync_period_ps: laser repetition period in ps; 0 for CW excitation.
        metadata: plain JSON-able values. Keys used by the analysis (when present):
            material, path_length_cm, abs_integration_s, pl_integration_s, excitation_nm,
            reference_dye, reference_plqy, reference_absorbance (at excitation_nm),
            solvent_index, reference_solvent_index, feed_metal_molar (metal concentration
            fed, mol/L, for chemical yield), sample_dilution (factor applied before the
            flow cell), saturation_counts (detector full scale, 16383 for 14-bit),
            acquisition_s (photon acquisition time), flows_ul_min (dict), temperature_c.
        device_log: list of {"t_s", "device", "kind", "value"} dicts, in time order.
        failure: set when no usable sample was produced (clog, equipment fault, ...).
        truth: hidden ground truth for tests and benchmarks; never read by the loop.
    """

    experiment_id: str
    conditions: dict[str, Any]
    wavelengths_nm: np.ndarray
    abs_dark_counts: np.ndarray
    abs_reference_counts: np.ndarray
    abs_sample_counts: np.ndarray
    pl_dark_counts: np.ndarray
    pl_sample_counts: np.ndarray
    pl_reference_counts: np.ndarray
    photon_timestamps_ps: np.ndarray | None = None
    photon_channels: np.ndarray | None = None
    sync_period_ps: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    device_log: list[dict[str, Any]] = field(default_factory=list)
    failure: Failure | None = None
    truth: dict[str, Any] | None = None

    SPECTRUM_FIELDS = (
        "wavelengths_nm",
        "abs_dark_counts",
        "abs_reference_counts",
        "abs_sample_counts",
        "pl_dark_counts",
        "pl_sample_counts",
        "pl_reference_counts",
    )

    @property
    def has_photons(self) -> bool:
        """True when a photon stream with at least one photon is attached."""
        return self.photon_timestamps_ps is not None and len(self.photon_timestamps_ps) > 0
