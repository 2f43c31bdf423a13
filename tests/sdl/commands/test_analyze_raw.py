"""The analysis commands accept a run's raw/<exp>.h5 files (real simulator runs)."""

from __future__ import annotations

import json

import pytest

from sdl.cli import main
from tests.sdl.serve.helpers import SteppedRun, sobol_campaign


@pytest.fixture(scope="module")
def photon_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("araw")
    run = SteppedRun(sobol_campaign(tmp, 2, "single_photon.toml"), tmp / "run")
    run.step()
    run.close()
    return run.session.state.experiments["e0001"], tmp / "run"


def test_spectrum_of_a_raw_file_agrees_with_the_recorded_score(photon_run, capsys):
    e, run = photon_run
    assert main(["analyze", "spectrum", str(run / e.raw_file), "--kind", "pl", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    rec = e.outcomes["pl_peak_nm"]
    # same PL band, from the same counts: the peak agrees within a few recorded stderrs
    assert got["pl_peak_nm"]["value"] == pytest.approx(rec["value"], abs=5 * rec["stderr"] + 0.05)


def test_g2_of_a_raw_file_reads_its_photon_hdf5_group(photon_run, capsys):
    e, run = photon_run
    assert main(["analyze", "g2", str(run / e.raw_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "pulsed" and sum(out["n_photons"]) > 0
    # the loop scored the same photons with the same analysis core
    assert out["g2_zero"] == pytest.approx(e.outcomes["g2_zero"]["value"], rel=1e-9)


def test_a_raw_file_that_is_not_hdf5_is_one_line(tmp_path, capsys):
    bad = tmp_path / "x.h5"
    bad.write_bytes(b"not hdf5 at all")
    assert main(["analyze", "spectrum", str(bad), "--kind", "pl"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unreadable" in err
