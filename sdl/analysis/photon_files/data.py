"""`PhotonData`: the in-memory photon stream every photon-file reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class PhotonData:
    """A time-tagged photon stream with its markers and timing metadata.

    Channel numbering (all readers): 0 is the sync input when the hardware time-tags it
    (HydraHarp / TimeHarp 260 / MultiHarp T2 sync records, PicoHarp T2 input 0); detector
    inputs are numbered from 1 as on the instrument front panel. For Hydra-type records the
    6-bit channel field c is reported as c + 1; PicoHarp records keep their 4-bit code.

    Attributes:
        timestamps_ps: shape (n,), int64, photon arrival times in picoseconds from the start
            of the measurement, non-decreasing (readers check or sort; see `read_ptu`).
        channels: shape (n,), uint8, input channel of each photon (numbering above).
        sync_period_ps: laser (sync) period in ps, rounded to an integer; 0 if CW/unknown.
        resolution_ps: T2: the timestamp unit (global resolution) in ps; T3: the dtime bin
            width (MeasDesc_Resolution) in ps.
        nsync: shape (n,), int64, T3 only: sync pulse index of each photon (overflows
            resolved); None for T2 data.
        dtime_ps: shape (n,), int64, T3 only: photon delay after its sync pulse in ps
            (dtime bins x resolution, rounded); None for T2 data.
        markers_ps: shape (m,), int64, external marker times in ps (never in the photon
            stream). Markers have a coarser resolution and may be slightly out of order
            (PicoQuant TTTR record format appendix); they are not sorted or checked.
        marker_channels: shape (m,), uint8, marker bit mask (1..15) of each marker record.
        header: file metadata: PTU tag name (``"Name"`` or ``"Name[idx]"`` for indexed tags)
            -> value, or Photon-HDF5 field path -> value.
        record_type: source record format, e.g. "HydraHarp2T2", "PicoHarpT3", "PhotonHDF5".
    """

    timestamps_ps: np.ndarray
    channels: np.ndarray
    sync_period_ps: int = 0
    resolution_ps: float = 1.0
    nsync: np.ndarray | None = None
    dtime_ps: np.ndarray | None = None
    markers_ps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    marker_channels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    header: dict[str, Any] = field(default_factory=dict)
    record_type: str = ""

    def __post_init__(self) -> None:
        self.timestamps_ps = np.asarray(self.timestamps_ps)
        self.channels = np.asarray(self.channels)
        self.markers_ps = np.asarray(self.markers_ps)
        self.marker_channels = np.asarray(self.marker_channels)
        _check_1d("timestamps_ps", self.timestamps_ps, np.int64)
        _check_1d("channels", self.channels, np.uint8, len(self.timestamps_ps))
        _check_1d("markers_ps", self.markers_ps, np.int64)
        _check_1d("marker_channels", self.marker_channels, np.uint8, len(self.markers_ps))
        if (self.nsync is None) != (self.dtime_ps is None):
            raise ValueError("PhotonData: nsync and dtime_ps must both be given (T3) or both None (T2)")
        if self.nsync is not None:
            self.nsync = np.asarray(self.nsync)
            self.dtime_ps = np.asarray(self.dtime_ps)
            _check_1d("nsync", self.nsync, np.int64, len(self.timestamps_ps))
            _check_1d("dtime_ps", self.dtime_ps, np.int64, len(self.timestamps_ps))
        self.sync_period_ps = int(self.sync_period_ps)
        if self.sync_period_ps < 0:
            raise ValueError(f"PhotonData: sync_period_ps must be >= 0, got {self.sync_period_ps}")
        self.resolution_ps = float(self.resolution_ps)
        if not (self.resolution_ps > 0 and np.isfinite(self.resolution_ps)):
            raise ValueError(f"PhotonData: resolution_ps must be > 0, got {self.resolution_ps}")

    @property
    def is_t3(self) -> bool:
        """True if the stream carries per-photon sync index and delay (TCSPC / T3 mode)."""
        return self.nsync is not None

    @property
    def n_photons(self) -> int:
        """Number of photons in the stream."""
        return int(self.timestamps_ps.shape[0])

    def channel_timestamps(self, channel: int) -> np.ndarray:
        """Timestamps (ps, int64, sorted) of the photons on one channel."""
        return self.timestamps_ps[self.channels == channel]


def _check_1d(name: str, arr: np.ndarray, dtype: type, length: int | None = None) -> None:
    if arr.ndim != 1:
        raise ValueError(f"PhotonData: {name} must be 1-D, got shape {arr.shape}")
    if arr.dtype != dtype:
        raise ValueError(f"PhotonData: {name} must be {np.dtype(dtype).name}, got {arr.dtype}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"PhotonData: {name} has {arr.shape[0]} entries, expected {length}")
