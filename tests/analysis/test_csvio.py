"""Spectrum CSV reader: good files, every rule broken with its line number, and fuzzing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdl.analysis.csvio import MIN_ROWS, parse_spectrum_csv, read_spectrum_csv
from sdl.analysis.errors import AnalysisInputError


def rows(n=30, start=400.0, step=1.0):
    return "".join(f"{start + i * step},{0.01 * i}\n" for i in range(n))


def test_good_file(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("# exported by the spectrometer\nwavelength_nm,absorbance\n" + rows() + "\n")
    s = read_spectrum_csv(p)
    assert s.header == ("wavelength_nm", "absorbance")
    assert s.wavelengths_nm[0] == 400.0 and s.wavelengths_nm.size == 30
    np.testing.assert_allclose(s.values, 0.01 * np.arange(30))
    assert not s.reversed


def test_reversed_file_is_sorted_and_reported():
    s = parse_spectrum_csv("wavelength_nm,pl\n" + rows(30, 700.0, -1.0))
    assert s.reversed
    assert np.all(np.diff(s.wavelengths_nm) > 0)
    assert s.values[0] == pytest.approx(0.29)  # the last row of the file comes first


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "empty file"),
        ("400,1\n" + rows(), "line 1: first line must be a header"),
        ("wavelength_nm,a,b\n" + rows(), "line 1: header must have 2 columns"),
        ("wavelength_nm,a\n" + rows(5) + "405,abc\n" + rows(30, 406), "line 7: value cell 'abc'"),
        ("wavelength_nm,a\n" + rows(5) + "x,1\n", "line 7: wavelength cell 'x'"),
        ("wavelength_nm,a\n" + rows(3) + "403,nan\n" + rows(30, 404), "line 5: .*not a finite"),
        ("wavelength_nm,a\n" + rows(3) + "403,1,2\n", "line 5: expected 2 cells"),
        ("wavelength_nm,a\n" + rows(3) + "-5,1\n", "line 5: wavelength -5 must be > 0"),
        ("wavelength_nm,a\n" + rows(10), f"only 10 data rows; at least {MIN_ROWS}"),
        ("wavelength_nm,a\n" + rows(10) + "409,3\n" + rows(20, 410), "lines 11 and 12: duplicated"),
        ("wavelength_nm,a\n" + rows(10) + "300,3\n" + rows(20, 410), "line 12: wavelength 300"),
    ],
)
def test_bad_files_name_the_line(text, match):
    with pytest.raises(AnalysisInputError, match=match):
        parse_spectrum_csv(text, name="f.csv")


def test_not_utf8_and_missing_file(tmp_path):
    with pytest.raises(AnalysisInputError, match="not UTF-8"):
        parse_spectrum_csv(b"wavelength_nm,a\n\xff\xfe\x00")
    with pytest.raises(AnalysisInputError, match="cannot read"):
        read_spectrum_csv(tmp_path / "missing.csv")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_bytes_never_crash(data):
    try:
        s = parse_spectrum_csv(data)
    except AnalysisInputError:
        return
    assert np.all(np.diff(s.wavelengths_nm) > 0)


cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "inf", "-1", "1e400", "abc", "0x10", "1,2", "\t3"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(cell, cell), min_size=0, max_size=40), st.booleans())
def test_fuzz_rows_give_valid_spectrum_or_typed_error(cells, header):
    text = ("wavelength_nm,value\n" if header else "") + "".join(f"{a},{b}\n" for a, b in cells)
    try:
        s = parse_spectrum_csv(text)
    except AnalysisInputError as e:
        assert "line" in str(e) or "rows" in str(e) or "empty" in str(e)
        return
    assert s.wavelengths_nm.size >= MIN_ROWS
    assert np.all(np.isfinite(s.values)) and np.all(np.diff(s.wavelengths_nm) > 0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(300, 900, allow_nan=False), min_size=MIN_ROWS, max_size=60,
                unique=True), st.booleans())
def test_fuzz_monotonic_files_round_trip(wls, descending):
    wls = sorted(wls, reverse=descending)
    text = "wavelength_nm,v\n" + "".join(f"{w!r},{i}\n" for i, w in enumerate(wls))
    s = parse_spectrum_csv(text)
    assert s.reversed == descending
    np.testing.assert_array_equal(s.wavelengths_nm, np.sort(wls))
    expected = np.arange(len(wls), dtype=float)
    np.testing.assert_array_equal(s.values, expected[::-1] if descending else expected)
