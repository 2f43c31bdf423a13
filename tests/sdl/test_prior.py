"""Data in: `sdl run CAMPAIGN --prior FILE.csv|RUN_DIR` (sdl.prior), with the real record,
replay and audit. Uses the Sobol strategy, whose point offset is len(history), so the
first proposal shows exactly how many prior rows reached the optimiser."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest

from sdl.cli import main
from sdl.prior import PriorError, read_prior
from tests.sdl.serve.helpers import SteppedRun, sobol_campaign


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prior")
    camp = sobol_campaign(tmp, 8)
    run = SteppedRun(camp, tmp / "src")
    for _ in range(4):
        run.step()
    run.close()
    return camp, tmp / "src"


def _export_csv(run_dir, capsys) -> str:
    assert main(["export", str(run_dir)]) == 0
    return capsys.readouterr().out


def _campaign(path):
    from sdl.schema.load import load_campaign

    return load_campaign(path)


def test_export_csv_reads_back_as_prior_rows_exactly(source, tmp_path, capsys):
    camp, src = source
    text = _export_csv(src, capsys)
    f = tmp_path / "p.csv"
    f.write_text(text)
    p = read_prior(f, _campaign(camp))
    assert p.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
    rows = list(csv.DictReader(io.StringIO(text)))
    usable = [r for r in rows if r["status"] == "scored" and r["pl_peak_nm"]]
    assert len(p.rows) + len(p.skipped) == len(rows) == 4
    assert len(p.rows) == len(usable) > 0
    by_id = {r["source_id"]: r for r in p.rows}
    for r in usable:
        got = by_id[r["experiment_id"]]
        assert got["conditions"]["temperature_c"] == float(r["temperature_c"])
        assert got["outcomes"]["pl_peak_nm"]["value"] == float(r["pl_peak_nm"])


def test_bad_rows_get_one_line_each_and_are_skipped(source, tmp_path, capsys):
    camp, src = source
    rows = list(csv.DictReader(io.StringIO(_export_csv(src, capsys))))
    rows[0]["temperature_c"] = "400"
    rows[1]["se_to_cd"] = "lots"
    rows[2]["status"] = "exploded"
    f = tmp_path / "bad.csv"
    with f.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    p = read_prior(f, _campaign(camp))
    assert p.skipped == [
        "line 2: temperature_c = 400 is outside the campaign's range [220, 300]; row skipped",
        "line 3: se_to_cd = 'lots' is not a number; row skipped",
        "line 4: status 'exploded' is not one of scored, failed; row skipped",
    ]
    assert len(p.rows) == len(rows) - 3


def test_unusable_sources_are_one_clear_error(source, tmp_path):
    camp, _ = source
    c = _campaign(camp)
    (tmp_path / "nocols.csv").write_text("a,b\n1,2\n")
    with pytest.raises(PriorError, match="missing column"):
        read_prior(tmp_path / "nocols.csv", c)
    with pytest.raises(PriorError, match="no such file"):
        read_prior(tmp_path / "absent.csv", c)
    (tmp_path / "x.bin").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(PriorError, match="not UTF-8"):
        read_prior(tmp_path / "x.bin", c)
    with pytest.raises(PriorError, match="not a run directory"):
        read_prior(tmp_path, c)


def test_run_with_prior_records_it_outside_the_budget_and_replays(source, tmp_path, capsys):
    from sdl.audit import audit
    from sdl.export import read_run
    from sdl.replay import verify
    from surrogates.design import sobol_points
    from surrogates.encoding import Encoder

    camp, src = source
    out = tmp_path / "seeded"
    assert main(["run", str(camp), "--budget", "2", "--out", str(out), "--no-report",
                 "--prior", str(src)]) == 0
    said = capsys.readouterr().out
    campaign, st, _ = read_run(out)
    (prior,) = st.priors
    n_prior = len(prior["rows"])
    assert n_prior == 4 and f"{n_prior} earlier experiments seed the optimiser" in said
    assert prior["source"] == str(src) and prior["source_kind"] == "run"
    # the budget counts only this run's experiments
    assert [e.experiment_id for e in st.completed] == ["e0001", "e0002"]
    # Sobol continued after the prior points: proposal 1 is the point at offset n_prior
    expected = sobol_points(Encoder.from_campaign(campaign), campaign.seed, n_prior, 1)[0]
    assert st.experiments["e0001"].conditions == pytest.approx(expected)
    res = verify(out)
    assert res.decisions == 2 and res.differences == []
    a = audit(out)
    assert a.clean and any("4 prior experiments" in n for n in a.notes)
    from sdl.report import build_html

    assert "4 earlier experiments from " in build_html(out)


def test_run_with_an_unusable_prior_creates_nothing(source, tmp_path, capsys):
    camp, _ = source
    (tmp_path / "empty.csv").write_text("temperature_c,residence_time_s,se_to_cd,"
                                        "ligand_to_metal,metal_conc_mm\n")
    rc = main(["run", str(camp), "--out", str(tmp_path / "r"), "--prior",
               str(tmp_path / "empty.csv")])
    assert rc == 2
    assert "no usable row" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
