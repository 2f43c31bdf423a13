"""Emulated time tagger: writes PicoQuant PTU files into the watched photon folder.

Photon streams are Poisson on two detectors (HBT), rate proportional to the PL the world
currently emits; written in two chunks through a temporary name, then renamed, the way
vendor software finishes a file, with the completed file's size settling. Uses the project's
writer `sdl.analysis.photon_files.write_ptu`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class TaggerEmulator:
    """Writes one PTU file per `acquire()` call.

    Args:
        world: shared `EmulatedWorld`.
        folder: output folder (the rig file's photon_timer folder).
        rate_hz: total count rate for a bright sample (pl_photon_rate peak >= 1e-3).
    """

    def __init__(self, world, folder: str | Path, *, rate_hz: float = 20_000.0, name: str = "hbt"):
        self.world = world
        self.folder = Path(folder)
        self.rate_hz = rate_hz
        self.name = name
        self.files = 0

    def acquire(self, duration_s: float = 1.0) -> Path:
        """Write one file of `duration_s` seconds of photons; return its path."""
        from sdl.analysis.photon_files import write_ptu

        self.files += 1
        rng = np.random.default_rng([self.world.seed, 7, self.files])
        wl = getattr(self.world, "spectrometer", None)
        brightness = 0.05
        if wl is not None:
            peak = float(self.world.optics(wl.wavelengths_nm).pl_photon_rate.max())
            brightness = min(max(peak / 1e-3, 0.05), 1.0)
        n = int(rng.poisson(self.rate_hz * brightness * duration_s))
        t = np.sort(rng.integers(0, int(duration_s * 1e12), n)).astype(np.int64)
        ch = rng.integers(1, 3, n).astype(np.uint8)
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{self.name}_{self.files:05d}.ptu"
        tmp = self.folder / f".{final.name}.part"
        write_ptu(tmp, t, ch, record_type="HydraHarp2T2", resolution_ps=1.0)
        os.replace(tmp, final)
        return final
