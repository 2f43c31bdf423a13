"""Photon time-tag file I/O: PicoQuant PTU (T2/T3) and Photon-HDF5.

Public API::

    from sdl.analysis.photon_files import (read_photon_file, read_ptu, write_ptu,
        read_photon_hdf5, write_photon_hdf5, PhotonData, PhotonFileError)

Every reader returns `PhotonData` (int64 ps timestamps, uint8 channels, markers kept
apart). Every malformed input raises `PhotonFileError` (a `sdl.analysis.errors.AnalysisInputError`
and a `ValueError`) whose message names the file and, for PTU, the byte offset.
Importing this package compiles nothing; kernels compile (and cache) on first use.
"""

from __future__ import annotations

import os

from sdl.analysis.photon_files.data import PhotonData
from sdl.analysis.photon_files.errors import PhotonFileError
from sdl.analysis.photon_files.photon_hdf5 import read_photon_hdf5, write_photon_hdf5
from sdl.analysis.photon_files.ptu import decode_ptu_bytes, read_ptu, write_ptu

__all__ = [
    "PhotonData",
    "PhotonFileError",
    "decode_ptu_bytes",
    "read_photon_file",
    "read_photon_hdf5",
    "read_ptu",
    "write_photon_hdf5",
    "write_ptu",
]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_PTU_MAGIC = b"PQTTTR"


def read_photon_file(path: str | os.PathLike[str]) -> PhotonData:
    """Read a photon time-tag file, choosing the reader by content (magic bytes).

    Recognised: PicoQuant PTU (magic ``PQTTTR``) and Photon-HDF5 (HDF5 signature). If the
    magic is unrecognised the extension decides (.ptu; .h5/.hdf5/.hdf) so the reader's
    own error explains what is wrong.

    Args:
        path: file path.

    Raises:
        PhotonFileError: unreadable, unknown format, or malformed content.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise PhotonFileError(f"cannot open photon file: {exc.strerror or exc}", path=name) from exc
    if head.startswith(_PTU_MAGIC):
        return read_ptu(name)
    if head == _HDF5_MAGIC:
        return read_photon_hdf5(name)
    ext = os.path.splitext(name)[1].lower()
    if ext == ".ptu":
        return read_ptu(name)
    if ext in (".h5", ".hdf5", ".hdf"):
        return read_photon_hdf5(name)
    raise PhotonFileError(
        f"unknown photon file format (first bytes {head!r}); supported: PicoQuant .ptu "
        "(magic PQTTTR) and Photon-HDF5 (.h5/.hdf5)", path=name, offset=0)
