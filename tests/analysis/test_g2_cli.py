"""`sdl analyze g2|lifetime|blinking FILE` on files written by the photon-file writers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sdl.analysis import photon_files
from sdl.cli import main

from .naive_photons import blinking_stream, cw_emitter_stream, pulsed_stream

P = 100_000


@pytest.fixture(scope="module")
def pulsed_ptu(tmp_path_factory):
    """HydraHarp T2 file: detectors on channels 1 and 2, the laser sync time-tagged on 0."""
    rng = np.random.default_rng(31)
    n_pulses = 300_000
    ts, ch, truth = pulsed_stream(rng, n_pulses, P, 0.2, 0.004, 4_000, 100, delay_ps=2_000)
    sync = np.arange(n_pulses, dtype=np.int64) * P
    t = np.concatenate([ts + 20_000, sync])
    c = np.concatenate([ch + 1, np.zeros(n_pulses, np.uint8)]).astype(np.uint8)
    o = np.argsort(t, kind="stable")
    path = tmp_path_factory.mktemp("ptu") / "pulsed.ptu"
    photon_files.write_ptu(
        path, t[o], c[o], record_type="HydraHarp2T2", resolution_ps=1.0, sync_period_ps=P
    )
    return path, truth


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_g2_pulsed_ptu_json(pulsed_ptu, capsys, tmp_path):
    path, truth = pulsed_ptu
    png = tmp_path / "g2.png"
    code, out, _ = _run(capsys, ["analyze", "g2", str(path), "--json", "--plot", str(png)])
    assert code == 0
    r = json.loads(out)
    assert r["mode"] == "pulsed" and r["method"] == "pulsed_area_ratio"
    assert r["channels"] == [1, 2]  # the sync channel 0 is recognised and left out
    assert abs(r["g2_zero"] - truth) < 2 * r["g2_zero_stderr"]
    assert r["raw"]["g2_zero"] == r["g2_zero"]
    bc = r["background_corrected"]
    # no background in this stream: rho ~ 1, corrected ~ raw
    assert bc["rho"] == pytest.approx(1.0, abs=0.02) and bc["method"] == "brouri2000"
    assert r["window_ps"] == P and "centre peak" in r["window"]
    assert r["g2_zero_raw"] == r["g2_zero"]
    assert (
        r["g2_zero_corrected"] == bc["g2_zero"]
        and r["g2_zero_corrected_stderr"] == bc["g2_zero_stderr"]
    )
    assert png.stat().st_size > 1000


def test_g2_cw_h5_and_rho_flag(tmp_path, capsys):
    rng = np.random.default_rng(5)
    ts, ch, truth = cw_emitter_stream(rng, 4.0, 2e6, 5e7, 0.05, jitter_ps=200, bg_cps=3_000)
    path = tmp_path / "cw.h5"
    photon_files.write_photon_hdf5(path, timestamps_ps=ts, channels=ch, sync_period_ps=0)
    code, out, _ = _run(
        capsys, ["analyze", "g2", str(path), "--json", "--rho", f"{truth['rho']:.6f}"]
    )
    assert code == 0
    r = json.loads(out)
    assert r["mode"] == "cw" and r["method"] == "cw_antibunching_fit"
    assert abs(r["g2_zero"] - truth["g2_zero"]) < 2 * r["g2_zero_stderr"]
    assert r["background_corrected"]["rho_source"] == "--rho"
    code, out, _ = _run(capsys, ["analyze", "g2", str(path)])
    assert code == 0 and "g2(0) =" in out


def test_g2_pulsed_without_rate_is_a_user_error(tmp_path, capsys):
    ts = np.arange(100, dtype=np.int64) * 1000
    path = tmp_path / "x.h5"
    photon_files.write_photon_hdf5(
        path, timestamps_ps=ts, channels=(np.arange(100) % 2).astype(np.uint8)
    )
    code, _, err = _run(capsys, ["analyze", "g2", str(path), "--mode", "pulsed"])
    assert code == 2 and "--rep-rate" in err and "Traceback" not in err


def test_bad_file_is_a_user_error(tmp_path, capsys):
    bad = tmp_path / "bad.ptu"
    bad.write_bytes(b"PQTTTR\0\0garbage")
    for kind in ("g2", "lifetime", "blinking"):
        code, _, err = _run(capsys, ["analyze", kind, str(bad)])
        assert code == 2 and err.count("\n") == 1


def test_lifetime_cli_uses_the_sync_channel(pulsed_ptu, capsys):
    path, _ = pulsed_ptu
    code, out, _ = _run(capsys, ["analyze", "lifetime", str(path), "--json"])
    assert code == 0
    r = json.loads(out)
    assert r["phase_reference"] == "sync_channel"
    assert abs(r["taus_ps"][0] - 4_000) < 2 * r["taus_stderr_ps"][0]


def test_blinking_cli(tmp_path, capsys):
    rng = np.random.default_rng(8)
    ts, truth = blinking_stream(rng, 200, 1.8, 2.0, 5e-3, 5.0, 20_000, 500)
    path = tmp_path / "blink.h5"
    photon_files.write_photon_hdf5(path, timestamps_ps=ts, channels=np.zeros(ts.size, np.uint8))
    code, out, _ = _run(
        capsys, ["analyze", "blinking", str(path), "--json", "--method", "threshold"]
    )
    assert code == 0
    r = json.loads(out)
    assert r["on_fraction"] == pytest.approx(truth["on_fraction"], abs=0.02)
    assert r["alpha_on"]["alpha"] > 1


def test_g2_json_has_bootstrap(pulsed_ptu, capsys):
    path, _ = pulsed_ptu
    code, out, _ = _run(capsys, ["analyze", "g2", str(path), "--json", "--blocks", "10"])
    r = json.loads(out)
    assert code == 0 and r["bootstrap"]["n_blocks"] == 10 and r["bootstrap"]["stationary"] is True
    code, out, _ = _run(capsys, ["analyze", "g2", str(path), "--json", "--no-bootstrap"])
    assert json.loads(out)["bootstrap"] is None
