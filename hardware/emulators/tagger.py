"""Emulated time tagger: writes PicoQuant PTU files into the watched photon folder.

One dot is drawn from the current outlet (`simulator.rig.sample_dot`) and its HBT stream
simulated (`simulator.photons`: exciton/biexciton cascade, blinking, detectors), so g2(0)
in the files follows the chemistry set on the emulated pumps and heater. With no sample in
the cell the detectors see only dark counts (two uncorrelated Poisson channels). Files are
written under a temporary name and renamed when complete, like vendor software; detectors
are channels 1 and 2. The file writer is given by the caller (`sdl` passes
`sdl.analysis.photon_files.write_ptu`): the hardware layer does not encode photon files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sdl.vocab.conditions import defaults
from simulator import photons as ph
from simulator.rig import sample_dot


class TaggerEmulator:
    """Writes one PTU file per `acquire()` call.

    Args:
        world: shared `EmulatedWorld`.
        folder: output folder (the rig file's photon_timer folder).
        writer: `write_ptu(path, timestamps_ps, channels, *, record_type, resolution_ps,
            sync_period_ps)`, e.g. `sdl.analysis.photon_files.write_ptu`.
        dark_rate_hz: total dark-count rate of the two detectors, no sample in the cell.
        name: device name (file prefix).

    Attributes:
        excitation: photon-statistics settings (condition names `photon_mode`,
            `rep_rate_mhz`, `excitation_mean`), defaults from `sdl.vocab.conditions`.
        last_source: "simulator.photons", "dark counts" or "no dot" for the last file.
    """

    def __init__(self, world, folder: str | Path, *, writer: Callable[..., Any],
                 dark_rate_hz: float = 1_000.0, name: str = "hbt"):
        self.world = world
        self.folder = Path(folder)
        self.writer = writer
        self.dark_rate_hz = dark_rate_hz
        self.name = name
        self.files = 0
        d = defaults()
        self.excitation = {k: d[k] for k in ("photon_mode", "rep_rate_mhz", "excitation_mean")}
        self.last_source = ""

    def _optics(self):
        spec = getattr(self.world, "spectrometer", None)
        if spec is None:
            return None
        return self.world.optics(spec.wavelengths_nm)

    def _stream(self, duration_s: float, rng: np.random.Generator,
                optics: Any = None) -> tuple[np.ndarray, np.ndarray, int]:
        if optics is not None and optics.state is not None:
            dot = sample_dot(optics.state, rng)
            if dot is None:
                self.last_source = "no dot"
                return np.zeros(0, np.int64), np.zeros(0, np.uint8), 0
            em = ph.emitter_from_dot(dot["core_radius_nm"], dot["shell_nm"], dot["qy_x"],
                                     dot["tau_x_ns"])
            exc = ph.Excitation(mode=str(self.excitation["photon_mode"]),
                                rep_rate_hz=float(self.excitation["rep_rate_mhz"]) * 1e6,
                                mean_excitations=float(self.excitation["excitation_mean"]))
            ps = ph.photon_stream(em, exc, ph.DetectorParams(), duration_s,
                                  int(rng.integers(0, 2**31 - 1)))
            self.last_source = "simulator.photons"
            return (np.asarray(ps.timestamps_ps, np.int64), np.asarray(ps.channels, np.uint8) + 1,
                    int(ps.sync_period_ps))
        n = int(rng.poisson(self.dark_rate_hz * duration_s))
        t = np.sort(rng.integers(0, int(duration_s * 1e12), n)).astype(np.int64)
        self.last_source = "dark counts"
        return t, rng.integers(1, 3, n).astype(np.uint8), 0

    def acquire(self, duration_s: float = 1.0) -> Path:
        """Write one file of `duration_s` seconds of photons; return its path."""
        self.files += 1
        rng = np.random.default_rng([self.world.seed, 7, self.files])
        with self.world.lock:  # only the outlet snapshot: the other devices keep answering
            optics = self._optics()
        t, ch, sync_ps = self._stream(duration_s, rng, optics)
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{self.name}_{self.files:05d}.ptu"
        tmp = self.folder / f".{final.name}.part"
        self.writer(tmp, t, ch, record_type="HydraHarp2T2", resolution_ps=1.0,
                    sync_period_ps=sync_ps)
        os.replace(tmp, final)
        return final
