"""`sdl simulate`: truth summary, HDF5 output, clear errors for bad conditions."""

from __future__ import annotations

import json

import h5py

from sdl.cli import main
from sdl.rawfile import load_raw


def test_simulate_json_and_hdf5(tmp_path, capsys):
    out = tmp_path / "raw.h5"
    code = main(["simulate", "--material", "CdSe", "--set", "temperature_c=270",
                 "--set", "residence_time_s=60", "--seed", "3", "--out", str(out), "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["failure"] is None and 2 < data["truth"]["mean_diameter_nm"] < 8
    with h5py.File(out) as f:
        assert f["spectra/abs_sample_counts"].shape == (1024,)
    raw = load_raw(out)                     # the run-directory layout of sdl.rawfile
    assert raw.conditions["temperature_c"] == 270.0
    assert raw.metadata["saturation_counts"] == 16383


def test_simulate_conditions_file_and_plot(tmp_path, capsys):
    cfile = tmp_path / "c.toml"
    cfile.write_text("[conditions]\ntemperature_c = 250\nflow_format = \"segmented\"\n")
    png = tmp_path / "s.png"
    assert main(["simulate", "--conditions", str(cfile), "--plot", str(png)]) == 0
    assert png.stat().st_size > 1000
    assert "pl_peak_nm" in capsys.readouterr().out


def test_simulate_bad_inputs(capsys):
    assert main(["simulate", "--set", "temperature_c=999"]) == 2
    err = capsys.readouterr().err
    assert "temperature_c" in err and "[20.0, 350.0]" in err and "Traceback" not in err
    assert main(["simulate", "--set", "bogus=1"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["simulate", "--set", "flow_format=plug"]) == 2
    assert "laminar" in capsys.readouterr().err
    assert main(["simulate", "--set", "novalue"]) == 2
