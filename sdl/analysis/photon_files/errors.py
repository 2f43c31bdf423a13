"""The one error type of photon-file reading and writing."""

from __future__ import annotations

from sdl.analysis.errors import AnalysisInputError


class PhotonFileError(AnalysisInputError, ValueError):
    """A photon file is malformed, truncated, or cannot represent the given data.

    It is an `sdl.analysis.errors.AnalysisInputError` (the CLI prints one line and exits 2) and a
    `ValueError` (for callers outside the CLI).

    Attributes:
        path: the file concerned, or "<bytes>" for in-memory input; None when writing
            data that cannot be encoded before any file is touched.
        offset: byte offset in the file where the problem was found, or None.
    """

    def __init__(self, message: str, *, path: str | None = None, offset: int | None = None):
        self.path = path
        self.offset = offset
        where = ""
        if path is not None:
            where = f"{path}: "
        if offset is not None:
            where += f"byte {offset}: "
        super().__init__(where + message)
