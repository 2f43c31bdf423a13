"""Photon time-tag files (PicoQuant PTU, Photon-HDF5) dropped into a watched folder.

Time taggers are USB devices with vendor libraries; the lab-portable interface is the file
they write (PROTOCOLS.md, "Photon timing"). A file counts as complete only when its size
has been stable for `settle_s` AND it parses, so a half-written file is never returned.
The parser is given by the caller: the hardware layer does not decode photon files
(`sdl.rigs` passes `sdl.analysis.photon_files.read_photon_file`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardware.errors import DeviceTimeout, HardwareError

SUFFIXES = (".ptu", ".h5", ".hdf5")


@dataclass(frozen=True)
class PhotonFile:
    """A complete photon file and its parsed content (whatever the reader returns)."""

    path: Path
    data: Any


class PhotonFolder:
    """Watch `folder` for new photon files.

    Args:
        folder: directory the tagger software writes into.
        settle_s: a file's size must stay unchanged this long before it is read.
        poll_s: polling interval.
        clock: monotonic time source, seconds (injectable for tests).
        sleep: sleep function (injectable for tests).
        reader: parses a file; raises on an incomplete/corrupt file (e.g.
            `sdl.analysis.photon_files.read_photon_file`).
        name: device name in errors.
    """

    def __init__(self, folder: str | Path, *, reader: Callable[[Path], Any],
                 settle_s: float = 2.0, poll_s: float = 0.2,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, name: str = ""):
        self.folder = Path(folder)
        self.settle_s = settle_s
        self.poll_s = poll_s
        self.clock = clock
        self.sleep = sleep
        self.reader = reader
        self.name = name or f"photon_folder:{folder}"
        self._seen: set[Path] = set()
        self._sizes: dict[Path, tuple[int, float]] = {}

    def check(self) -> None:
        """Raise `HardwareError` if the folder is missing or not a directory."""
        if not self.folder.is_dir():
            raise HardwareError(f"photon folder {self.folder} does not exist", device=self.name,
                                next_step="create it or fix `folder` in the rig file")

    def mark_existing_seen(self) -> int:
        """Ignore files already present (call before starting an acquisition)."""
        self.check()
        files = self._candidates()
        self._seen.update(files)
        return len(files)

    def _candidates(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir()
                      if p.is_file() and p.suffix.lower() in SUFFIXES and p not in self._seen)

    def poll(self) -> PhotonFile | None:
        """One scan: return the oldest complete new file, or None."""
        self.check()
        now = self.clock()
        for path in self._candidates():
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            prev = self._sizes.get(path)
            if prev is None or prev[0] != size:
                self._sizes[path] = (size, now)
                continue
            if now - prev[1] < self.settle_s or size == 0:
                continue
            try:
                data = self.reader(path)
            except HardwareError:
                raise
            except Exception:  # noqa: BLE001 - still being written or corrupt: keep waiting
                self._sizes[path] = (size, now)
                continue
            self._seen.add(path)
            self._sizes.pop(path, None)
            return PhotonFile(path, data)
        return None

    def wait_for_file(self, timeout_s: float) -> PhotonFile:
        """Block until a complete new file appears; `DeviceTimeout` after `timeout_s`."""
        deadline = self.clock() + timeout_s
        while True:
            found = self.poll()
            if found is not None:
                return found
            if self.clock() >= deadline:
                raise DeviceTimeout(f"no complete photon file in {self.folder} within {timeout_s:g} s",
                                    timeout_s=timeout_s, device=self.name,
                                    next_step="check the time tagger is acquiring and saving here")
            self.sleep(self.poll_s)
