"""`sdl analyze spectrum FILE.csv`: JSON keys, NoOutcome form, bad files exit 2, plot."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sdl.cli import main

from .synthetic_spectra import HC


def write(path, wl, y, header="wavelength_nm,value"):
    path.write_text(header + "\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(wl, y, strict=True)))
    return str(path)


def test_absorbance_json(tmp_path, capsys):
    wl = np.linspace(400, 750, 600)
    e = HC / wl
    a = 0.3 * np.exp(-((e - HC / 590) ** 2) / (2 * 0.045**2)) + 0.6 / (1 + np.exp(-(e - 2.5) / 0.1))
    a += np.random.default_rng(0).normal(0, 0.002, wl.size)
    f = write(tmp_path / "a.csv", wl[::-1], a[::-1], "wavelength_nm,absorbance")
    assert main(["analyze", "spectrum", f, "--kind", "absorbance", "--material", "CdSe",
                 "--json"]) == 0
    cap = capsys.readouterr()
    out = json.loads(cap.out)
    assert set(out) == {"abs_peak_nm", "diameter_nm", "size_dispersion"}
    assert out["abs_peak_nm"]["value"] == pytest.approx(590, abs=1.0)
    assert out["abs_peak_nm"]["stderr"] > 0
    # Yu 2003 at 590 nm: 4.17 nm
    assert out["diameter_nm"]["value"] == pytest.approx(4.17, abs=0.05)
    assert "reversed" in cap.err


def test_pl_text_and_plot(tmp_path, capsys):
    wl = np.linspace(400, 750, 600)
    e = HC / wl
    s = 0.08 / (2 * math.sqrt(2 * math.log(2)))
    y = 1000 * np.exp(-((e - HC / 620) ** 2) / (2 * s * s)) * HC / wl**2
    f = write(tmp_path / "p.csv", wl, y)
    png = tmp_path / "p.png"
    assert main(["analyze", "spectrum", f, "--kind", "pl", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "pl_peak_nm" in out and "fwhm_mev" in out
    assert png.stat().st_size > 1000
    assert main(["analyze", "spectrum", f, "--kind", "pl", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["fwhm_mev"]["value"] == pytest.approx(80, rel=0.01)


def test_flat_gives_no_outcome_json(tmp_path, capsys):
    wl = np.linspace(400, 750, 300)
    y = np.random.default_rng(1).normal(0, 1e-3, wl.size)
    f = write(tmp_path / "flat.csv", wl, y)
    assert main(["analyze", "spectrum", f, "--kind", "absorbance", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["abs_peak_nm"]["no_outcome"] == "flat_spectrum"
    assert "detail" in out["abs_peak_nm"]


def test_bad_csv_exits_2_with_line(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("wavelength_nm,value\n" + "".join(f"{400 + i},1\n" for i in range(25)) + "425,x\n")
    assert main(["analyze", "spectrum", str(p), "--kind", "pl"]) == 2
    err = capsys.readouterr().err
    assert "line 27" in err and "Traceback" not in err
