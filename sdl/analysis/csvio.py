"""Read a two-column spectrum CSV: a header line, then `wavelength_nm,value` rows.

Rules (every violation raises `sdl.analysis.errors.AnalysisInputError` naming the file and line):
- UTF-8 text; blank lines and lines starting with '#' are ignored anywhere.
- The first other line is the header: exactly two comma-separated names, the first
  starting with "wavelength" (e.g. `wavelength_nm,absorbance`).
- Each data row has exactly two cells, both finite numbers (no NaN/inf); wavelengths > 0.
- Wavelengths must be strictly monotonic. A file written in decreasing wavelength order
  is accepted and reversed (`SpectrumCsv.reversed` is True); duplicated wavelengths and
  non-monotonic order are errors.
- At least `MIN_ROWS` data rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdl.analysis.errors import AnalysisInputError

MIN_ROWS = 20
MAX_BYTES = 50_000_000


@dataclass(frozen=True)
class SpectrumCsv:
    """A spectrum read from CSV.

    Attributes:
        wavelengths_nm: (P,) strictly increasing wavelengths, nm.
        values: (P,) the second column, in the same (sorted) order.
        header: the two column names.
        reversed: True when the file listed wavelengths in decreasing order.
    """

    wavelengths_nm: np.ndarray
    values: np.ndarray
    header: tuple[str, str]
    reversed: bool


def read_spectrum_csv(path: str | Path) -> SpectrumCsv:
    """Read and validate a spectrum CSV file (see the module docstring for the rules).

    Args:
        path: file path.

    Returns:
        A `SpectrumCsv`.

    Raises:
        AnalysisInputError: unreadable file or any rule broken; the message names the line.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise AnalysisInputError(f"{p}: file is {size} bytes; at most {MAX_BYTES} allowed")
        data = p.read_bytes()
    except OSError as e:
        raise AnalysisInputError(f"{p}: cannot read: {e.strerror or e}") from None
    return parse_spectrum_csv(data, name=str(p))


def parse_spectrum_csv(data: bytes | str, *, name: str = "<csv>") -> SpectrumCsv:
    """Parse spectrum CSV content (bytes or text); same rules as `read_spectrum_csv`."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise AnalysisInputError(f"{name}: not UTF-8 text (byte {e.start})") from None
    else:
        text = data
    header: tuple[str, str] | None = None
    wl: list[float] = []
    val: list[float] = []
    lines: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        cells = [c.strip() for c in s.split(",")]
        if header is None:
            if len(cells) != 2:
                raise AnalysisInputError(
                    f"{name}: line {lineno}: header must have 2 columns "
                    f"(wavelength_nm,value), found {len(cells)}")
            if not cells[0].lower().startswith("wavelength"):
                raise AnalysisInputError(
                    f"{name}: line {lineno}: first line must be a header such as "
                    f"'wavelength_nm,value', found {s[:40]!r}")
            header = (cells[0], cells[1])
            continue
        if len(cells) != 2:
            raise AnalysisInputError(
                f"{name}: line {lineno}: expected 2 cells (wavelength_nm,value), found {len(cells)}")
        nums = []
        for col, c in zip(("wavelength", "value"), cells, strict=True):
            try:
                x = float(c)
            except ValueError:
                raise AnalysisInputError(
                    f"{name}: line {lineno}: {col} cell {c[:20]!r} is not a number") from None
            if not math.isfinite(x):
                raise AnalysisInputError(
                    f"{name}: line {lineno}: {col} cell {c[:20]!r} is not a finite number")
            nums.append(x)
        if nums[0] <= 0:
            raise AnalysisInputError(
                f"{name}: line {lineno}: wavelength {nums[0]:g} must be > 0 nm")
        wl.append(nums[0])
        val.append(nums[1])
        lines.append(lineno)
    if header is None:
        raise AnalysisInputError(f"{name}: empty file; expected a header 'wavelength_nm,value'")
    if len(wl) < MIN_ROWS:
        raise AnalysisInputError(
            f"{name}: only {len(wl)} data rows; at least {MIN_ROWS} needed")
    w = np.asarray(wl)
    v = np.asarray(val)
    d = np.diff(w)
    rev = False
    if np.all(d < 0):
        w, v, lines = w[::-1].copy(), v[::-1].copy(), lines[::-1]
        d = np.diff(w)
        rev = True
    dup = np.flatnonzero(d == 0)
    if dup.size:
        k = int(dup[0])
        raise AnalysisInputError(
            f"{name}: lines {lines[k]} and {lines[k + 1]}: duplicated wavelength {w[k]:g} nm")
    bad = np.flatnonzero(d < 0)
    if bad.size:
        k = int(bad[0])
        raise AnalysisInputError(
            f"{name}: line {lines[k + 1]}: wavelength {w[k + 1]:g} nm breaks the increasing "
            "order (sort the file)")
    return SpectrumCsv(w, v, header, rev)
