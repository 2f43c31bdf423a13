"""`sdl export` and `sdl show` on a run written by the real simulator (with failures)."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

pytest.importorskip("pandas")

from sdl.cli import main  # noqa: E402
from tests.sdl.serve.helpers import SteppedRun, sobol_campaign  # noqa: E402


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    run = SteppedRun(sobol_campaign(tmp, 6), tmp / "run")
    for _ in range(4):
        run.step()
    # one rejected by the safety check (a failure with kind and reason, no raw file)
    (trial,) = run.session.ask(1)
    run.session.reject(trial.experiment_id, ["temperature_c 400 > max 320"])
    run.close()
    return tmp / "run"


def _csv(capsys, *args):
    assert main(["export", *args]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_csv_to_stdout_has_one_row_per_experiment(run_dir, capsys):
    rows = _csv(capsys, str(run_dir), "--format", "csv")
    assert [r["experiment_id"] for r in rows] == ["e0001", "e0002", "e0003", "e0004", "e0005"]
    assert [r["status"] for r in rows] == ["scored"] * 4 + ["failed"]
    rej = rows[-1]
    assert (rej["failure_kind"], rej["failure_reason"]) == ("rejected", "safety:limits")
    assert rej["failure_detail"] == "temperature_c 400 > max 320"
    for r in rows[:4]:  # raw-file sha256 matches the file
        digest = hashlib.sha256((run_dir / r["raw_file"]).read_bytes()).hexdigest()
        assert r["raw_sha256"] == digest
        assert r["proposed_at"] <= r["dispatched_at"] <= r["measured_at"] <= r["finished_at"]
        assert float(r["temperature_c"]) > 0 and "pl_peak_nm_stderr" in r


def test_values_match_the_record_exactly(run_dir, capsys):
    from sdl.export import read_run

    _, st, _ = read_run(run_dir)
    rows = _csv(capsys, str(run_dir))
    for r in rows[:4]:
        e = st.experiments[r["experiment_id"]]
        for name, o in e.outcomes.items():
            if o.get("value") is not None:
                assert float(r[name]) == o["value"]  # round-trips bit for bit
                assert float(r[f"{name}_stderr"]) == o["stderr"]
        for p, v in e.conditions.items():
            assert float(r[p]) == v


def test_json_and_parquet_agree_with_csv(run_dir, tmp_path, capsys):
    import pandas as pd

    assert main(["export", str(run_dir), "--format", "json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert main(["export", str(run_dir), "--format", "parquet", "--out",
                 str(tmp_path / "x.parquet")]) == 0
    pq = pd.read_parquet(tmp_path / "x.parquet")
    assert len(js) == len(pq) == 5
    assert list(pq["experiment_id"]) == [r["experiment_id"] for r in js]
    assert pq["pl_peak_nm"].iloc[0] == js[0]["pl_peak_nm"]


def test_parquet_to_stdout_is_refused_with_one_line(run_dir, capsys):
    assert main(["export", str(run_dir), "--format", "parquet"]) == 2
    assert "--out" in capsys.readouterr().err


def test_show_prints_outcomes_and_writes_spectra_csv_and_plot(run_dir, tmp_path, capsys):
    from sdl.rawfile import load_raw

    png, spec = tmp_path / "e2.png", tmp_path / "e2.csv"
    assert main(["show", str(run_dir), "e0002", "--plot", str(png), "--csv", str(spec)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("e0002: scored") and "pl_peak_nm" in out and " nm" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    raw = load_raw(run_dir / "raw/e0002.h5")
    rows = list(csv.DictReader(spec.open()))
    assert len(rows) == len(raw.wavelengths_nm)
    i = len(rows) // 2
    assert float(rows[i]["pl_sample"]) == raw.pl_sample_counts[i]
    assert float(rows[i]["pl_net"]) == raw.pl_sample_counts[i] - raw.pl_dark_counts[i]


def test_show_json_and_bad_id(run_dir, capsys):
    assert main(["show", str(run_dir), "e0005", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["status"] == "failed" and info["failure"]["kind"] == "rejected"
    assert main(["show", str(run_dir), "e0042"]) == 2
    err = capsys.readouterr().err
    assert "no experiment 'e0042'" in err and "e0001..e0005" in err
