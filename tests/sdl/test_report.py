"""`sdl report`: the self-contained HTML report of a run directory.

Run directories are built through the real `Session` (record, raw files, lock), with two
stand-ins so the tests do not depend on the optimiser or the spectral analysis (both
written in parallel, and both irrelevant to what a report shows):
- `surrogates.propose` is replaced by a deterministic golden-ratio proposer that also
  returns a `StrategyInfo` with known fit/propose seconds;
- `sdl.scoring.score_raw` is replaced by a scorer that returns the outcomes stored in the
  synthetic raw measurement's `truth`, so each experiment's outcomes are known exactly.
The raw files themselves are real HDF5 files written by `Session.tell_raw`: a Gaussian
PL band, lamp/dark counts with a Beer-Lambert sample, and (for some) pulsed photon tags.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import sdl.scoring
import surrogates
from sdl.cli import main
from sdl.errors import RecordError
from sdl.report import build_html, write_report
from sdl.report.plots import non_dominated
from sdl.report.raw import absorbance, coincidence_histogram, g2_window
from sdl.session import Session
from sdl.vocab.measurement import Failure, RawMeasurement
from surrogates.types import Proposal, StrategyInfo

CAMPAIGN = """
[campaign]
name = "report-test"
material = "CdSe"
seed = 1
description = "Hit 620 nm <script>alert('x')</script> & keep g2 low"

[budget]
experiments = 12

[[parameters]]
name = "temperature_c"
low = 220
high = 300

[[parameters]]
name = "residence_time_s"
low = 10
high = 600
scale = "log"

[[parameters]]
name = "flow_format"
type = "categorical"
values = ["laminar", "segmented"]

[[objectives]]
name = "pl_peak_nm"
target = 620
tolerance = 3

[[objectives]]
name = "plqy"
goal = "maximize"

[[constraints]]
outcome = "g2_zero"
max = 0.5

[fixed]
acquisition_s = 5

[strategy]
kind = "sobol"
initial = 4
"""

SINGLE = """
[campaign]
name = "single-objective"
seed = 2

[budget]
experiments = 5

[[parameters]]
name = "temperature_c"
low = 220
high = 300

[[objectives]]
name = "plqy"
goal = "maximize"

[strategy]
kind = "random"
"""

SYNC_PS = 400_000  # 2.5 MHz laser


def fake_propose(campaign, history, k, pending, n):
    """Deterministic stand-in for `surrogates.propose`: golden-ratio points."""
    props = []
    for i in range(n):
        frac = ((k + i + 1) * 0.6180339887498949) % 1.0
        cond = {}
        for p in campaign.parameters:
            if p.type == "categorical":
                cond[p.name] = p.values[(k + i) % len(p.values)]
            else:
                cond[p.name] = p.low + frac * (p.high - p.low)
        props.append(Proposal(conditions=cond))
    return props, StrategyInfo(strategy="fake", fit_seconds=0.5 + k, propose_seconds=1.0 + k)


def fake_score_raw(raw, campaign):
    """Stand-in for `sdl.scoring.score_raw`: the outcomes written into `raw.truth`."""
    return {n: {"value": v, "stderr": 0.01} for n, v in raw.truth.items()
            if n in campaign.outcome_names}


def synthetic_raw(eid, conditions, *, pl_peak=620.0, plqy=0.5, g2=0.2, photons=False,
                  failure=None, seed=0):
    """A raw measurement with a Gaussian PL band, a Beer-Lambert absorbance band and,
    optionally, pulsed single-photon tags (one photon per excited pulse, random channel)."""
    wl = np.linspace(400.0, 800.0, 401)
    dark = np.full_like(wl, 50.0)
    ref = dark + 20000.0 * np.exp(-(((wl - 550.0) / 300.0) ** 2))
    a = 0.3 * np.exp(-0.5 * ((wl - (pl_peak - 20.0)) / 15.0) ** 2)
    sample = dark + (ref - dark) * 10.0 ** (-a)
    pl_dark = np.full_like(wl, 20.0)
    pl = pl_dark + 5000.0 * plqy * np.exp(-0.5 * ((wl - pl_peak) / 12.0) ** 2)
    pl_ref = pl_dark + 3000.0 * np.exp(-0.5 * ((wl - 560.0) / 15.0) ** 2)
    ts = ch = None
    if photons:
        rng = np.random.default_rng(seed)
        pulses = np.sort(rng.choice(20_000, size=800, replace=False)).astype(np.int64)
        ts = pulses * SYNC_PS + rng.exponential(20_000.0, pulses.size).astype(np.int64)
        ch = rng.integers(0, 2, ts.size).astype(np.uint8)
    return RawMeasurement(
        experiment_id=eid, conditions=dict(conditions), wavelengths_nm=wl,
        abs_dark_counts=dark, abs_reference_counts=ref, abs_sample_counts=sample,
        pl_dark_counts=pl_dark, pl_sample_counts=pl, pl_reference_counts=pl_ref,
        photon_timestamps_ps=ts, photon_channels=ch, sync_period_ps=SYNC_PS if photons else 0,
        failure=failure, truth={"pl_peak_nm": pl_peak, "plqy": plqy, "g2_zero": g2},
    )


# (pl_peak_nm, plqy, g2_zero, photons) of the experiments told through raw files.
# e0004 is the best by construction: 0.5 nm off target, second-highest PLQY, feasible g2;
# e0003 has the highest PLQY but violates the g2 constraint.
SCORED_RAW = {
    "e0001": (600.0, 0.3, 0.2, True),
    "e0002": (610.0, 0.6, 0.3, True),
    "e0003": (640.0, 0.9, 0.7, False),
    "e0004": (620.5, 0.8, 0.1, True),
    "e0005": (625.0, 0.5, 0.4, True),
}
EVIL = "<img src=x onerror=alert(1)>"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(run: Path) -> dict[str, str]:
    """sha256 of the record and every raw file."""
    files = [run / "record.sqlite", *sorted((run / "raw").glob("*"))]
    return {p.name: sha(p) for p in files}


@pytest.fixture(autouse=True)
def stand_ins(monkeypatch):
    monkeypatch.setattr(surrogates, "propose", fake_propose, raising=False)
    monkeypatch.setattr(sdl.scoring, "score_raw", fake_score_raw)


def build_full_run(base: Path, *, keep_open: bool = False) -> tuple[Path, Session]:
    """12-experiment budget: 5 scored from raw files, 1 clog (raw failure), 1 pump fault and
    1 scored by tell_outcomes (ask/tell path), 1 proposed but unfinished; stopped by SIGINT."""
    camp = base / "campaign.toml"
    camp.write_text(CAMPAIGN)
    s = Session.create(camp, out=base / "run")
    for i, (eid, (peak, qy, g2, ph)) in enumerate(SCORED_RAW.items()):
        (t,) = s.ask()
        assert t.experiment_id == eid
        s.dispatch(eid)
        s.tell_raw(eid, synthetic_raw(eid, t.full_conditions, pl_peak=peak, plqy=qy, g2=g2,
                                      photons=ph, seed=i))
    (t,) = s.ask()
    s.dispatch(t.experiment_id)
    s.tell_raw(t.experiment_id, synthetic_raw(
        t.experiment_id, t.full_conditions,
        failure=Failure("clog", "clog:fouling", f"fouled tubing {EVIL}")))
    (t,) = s.ask()
    s.dispatch(t.experiment_id)
    s.tell_outcomes(t.experiment_id, failure=("equipment", "equipment:pump_fault"))
    (t,) = s.ask()
    s.dispatch(t.experiment_id)
    s.tell_outcomes(t.experiment_id, {"pl_peak_nm": (615.0, 0.5), "plqy": 0.4,
                                      "g2_zero": (0.45, 0.05)})
    s.ask()  # e0009: proposed, never run
    if not keep_open:
        s.stop("signal", "SIGINT")
        s.close()
    return s.run_dir, s


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(surrogates, "propose", fake_propose, raising=False)
        mp.setattr(sdl.scoring, "score_raw", fake_score_raw)
        run, _ = build_full_run(base)
    return run


def imgs(text: str) -> list[str]:
    return re.findall(r'<section id="plot-([a-z0-9]+)"><h2>[^<]*</h2><figure><img ', text)


def section(text: str, key: str) -> str:
    m = re.search(rf'<section id="plot-{key}">.*?</section>', text, re.S)
    return m.group(0) if m else ""


def copy_run(run: Path, dst: Path) -> Path:
    shutil.copytree(run, dst)
    return dst


@pytest.fixture(scope="module")
def full_report(full_run, tmp_path_factory):
    """(run directory, report text, hashes before, hashes after) of one report."""
    run = copy_run(full_run, tmp_path_factory.mktemp("report") / "run")
    before = tree_hashes(run)
    path = write_report(run)
    assert path == run / "report.html"
    return run, path.read_text(), before, tree_hashes(run)


def build_small_run(base: Path, *, close: bool = True) -> tuple[Path, Session]:
    """Cheap ask/tell path: single objective, three outcomes told directly, no stop."""
    camp = base / "c.toml"
    camp.write_text(SINGLE)
    s = Session.create(camp, out=base / "run")
    for qy in (0.2, 0.7, 0.4):
        (t,) = s.ask()
        s.tell_outcomes(t.experiment_id, {"plqy": (qy, 0.02)})
    if close:
        s.close()
    return s.run_dir, s


def test_full_report(full_report):
    run, text, before, after = full_report
    assert after == before  # record and raw files byte-identical

    # self-contained: no links, no scripts, no file references
    assert "http://" not in text and "https://" not in text
    assert 'src="file' not in text and "<script" not in text.lower()
    # one <img> per plot, all embedded PNGs
    assert imgs(text) == ["trace", "pareto", "slices", "importance", "loo", "params", "spectra", "g2", "failures",
                          "timings"]
    assert text.count("<img ") == 10
    assert text.count('src="data:image/png;base64,') == 10

    # the summary numbers
    assert '<b id="best-id">e0004</b>' in text
    assert '<span id="n-completed">8</span> completed of budget 12: 6 scored, 2 failed, ' \
           "1 unfinished (e0009 proposed)" in text
    assert 'reached</b> by <span id="target-hit">e0004</span> (the first experiment' in text
    assert "pl_peak_nm = 620.5 ± 0.01" in text
    assert "clog:fouling: 1" in text and "equipment:pump_fault: 1" in text
    assert "stopped" in text and "SIGINT" in text
    assert f"continue with `sdl resume {run}`" in text
    stages = re.search(r"<th>Time by stage</th><td>([^<]*)</td>", text)
    assert stages and "strategy" in stages.group(1) and "record" in stages.group(1)

    # escaping: the description's <script> and a failure detail's <img> arrive as text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert EVIL not in text

    # the experiment table lists all nine, with the failure reasons
    rows = re.findall(r'<tr class="[a-z]*"><td>(e\d{4})</td><td>([a-z]+)</td>', text)
    assert [r[0] for r in rows] == [f"e{i:04d}" for i in range(1, 10)]
    assert dict(rows)["e0006"] == "failed" and dict(rows)["e0009"] == "proposed"
    assert "equipment: equipment:pump_fault" in text
    # the spectra note the best experiment told without a raw file
    assert "e0008: no raw file recorded" in section(text, "spectra")


def test_missing_or_changed_raw_files_are_skipped_with_a_note(full_run, tmp_path):
    run = copy_run(full_run, tmp_path / "run")
    (run / "raw/e0004.h5").unlink()
    with open(run / "raw/e0005.h5", "ab") as f:
        f.write(b"\0")
    text = write_report(run).read_text()
    spectra = section(text, "spectra")
    assert "<img" not in spectra  # top 3 are e0004 (missing), e0005 (changed), e0008 (none)
    assert "e0004: skipped, raw file" in spectra and "is missing" in spectra
    assert "e0005: skipped" in spectra and "changed since it was recorded" in spectra
    # the g2 panel falls back to the next candidate with photons (e0002)
    assert "<img" in section(text, "g2")
    assert imgs(text) == ["trace", "pareto", "slices", "importance", "loo", "params", "g2", "failures", "timings"]


def test_report_while_live_does_not_block_or_alter_the_writer(tmp_path):
    run, s = build_small_run(tmp_path, close=False)
    files = {p.name: sha(p) for p in run.glob("record.sqlite*") if not p.name.endswith("-shm")}
    text = build_html(run)
    assert {p.name: sha(p) for p in run.glob("record.sqlite*") if p.name in files} == files
    assert '<p class="rec running"' in text and "a writer holds the lock" in text
    s.stop("budget")  # the writer goes on after the report
    s.close()
    assert '<p class="rec complete"' in build_html(run)


def test_single_objective_has_no_pareto_and_cheap_path_works(tmp_path):
    run, _ = build_small_run(tmp_path)  # no stopped event: looks crashed
    text = write_report(run, out=tmp_path / "sub/r.html").read_text()
    assert not (run / "report.html").exists()
    assert imgs(text) == ["trace", "slices", "importance", "loo", "params", "timings"]
    assert "plot-pareto" not in text and "plot-g2" not in text
    assert '<b id="best-id">e0002</b>' in text
    assert "no target objective" in text
    assert "crash" in text and "sdl resume" in text


def test_empty_run(tmp_path):
    camp = tmp_path / "c.toml"
    camp.write_text(SINGLE)
    Session.create(camp, out=tmp_path / "run").close()
    text = build_html(tmp_path / "run")
    assert "<img" not in text
    assert '<span id="n-completed">0</span> completed of budget 5' in text
    assert "no finished experiments yet" in text


def test_cli(tmp_path, capsys):
    run, _ = build_small_run(tmp_path)
    assert main(["report", str(run)]) == 0
    assert capsys.readouterr().out.strip() == str(run / "report.html")
    out = tmp_path / "x.html"
    assert main(["report", str(run), "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"report": str(out)}
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("make", ["missing", "no_record", "file", "junk_record"])
def test_cli_bad_dir_is_one_line_exit_2(tmp_path, capsys, make):
    d = tmp_path / "d"
    if make in ("no_record", "junk_record"):
        d.mkdir()
    elif make == "file":
        d.write_text("x")
    if make == "junk_record":
        (d / "record.sqlite").write_bytes(b"not a database at all" * 100)
    assert main(["report", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err
    with pytest.raises(RecordError):
        write_report(d)


def test_unwritable_out_is_one_line_exit_2(tmp_path, capsys):
    run, _ = build_small_run(tmp_path)
    blocker = tmp_path / "f"
    blocker.write_text("x")
    assert main(["report", str(run), "--out", str(blocker / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the report" in err


def brute_force_histogram(t, ch, max_delay, bin_ps):
    """Reference: every (ch0, ch1) pair by an outer difference."""
    d = t[ch == 1][None, :] - t[ch == 0][:, None]
    d = d[(d >= -max_delay) & (d < max_delay)]
    return np.bincount((d + max_delay) // bin_ps, minlength=2 * max_delay // bin_ps)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coincidence_histogram_matches_all_pairs(seed):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 5_000_000, 600)).astype(np.int64)
    t[10] = t[11]  # a tie
    ch = rng.integers(0, 2, t.size).astype(np.uint8)
    h = coincidence_histogram(t, ch, 60_000, 1_000)
    np.testing.assert_array_equal(h.counts, brute_force_histogram(t, ch, 60_000, 1_000))
    assert h.edges_ps[0] == -60_000 and h.edges_ps[-1] == 60_000 and h.detectors == (0, 1)


def test_a_plot_that_fails_becomes_a_note(tmp_path, monkeypatch):
    import sdl.report.plots_physical as plots

    def broken(data):
        raise ValueError("kaboom <b>")

    monkeypatch.setattr(plots, "plot_objective_traces", broken)
    run, _ = build_small_run(tmp_path)
    text = build_html(run)
    assert "this plot could not be drawn: ValueError: kaboom &lt;b&gt;" in section(text, "trace")
    assert imgs(text) == ["slices", "importance", "loo", "params", "timings"]


def test_g2_window():
    assert g2_window(400_000) == (1_200_000, 8_000)  # +/- 3 periods, 50 bins per period
    assert g2_window(0) == (100_000, 1_000)


def test_absorbance_inverts_beer_lambert():
    a_true = np.linspace(0.0, 2.0, 21)
    raw = synthetic_raw("e0001", {})
    raw.abs_dark_counts = np.full(21, 100.0)
    raw.abs_reference_counts = np.full(21, 10_100.0)
    raw.abs_sample_counts = 100.0 + 10_000.0 * 10.0 ** (-a_true)
    raw.abs_sample_counts[3] = 90.0  # below dark: undefined
    a = absorbance(raw)
    assert np.isnan(a[3])
    np.testing.assert_allclose(np.delete(a, 3), np.delete(a_true, 3), rtol=0, atol=1e-12)


def test_non_dominated_respects_goals():
    pts = np.array([[1.0, 1.0], [2.0, 2.0], [0.5, 3.0], [1.0, 0.5], [3.0, 0.1]])
    # both minimised: (1, 0.5) dominates (1, 1) and (2, 2)
    assert non_dominated(pts, [True, True]).tolist() == [False, False, True, True, True]
    # first maximised, second minimised: (3, 0.1) dominates all the others
    assert non_dominated(pts, [False, True]).tolist() == [False, False, False, False, True]


def test_with_the_real_sobol_strategy(tmp_path, monkeypatch):
    """The report of a run proposed by the real `surrogates.propose` (sobol: no model)."""
    from surrogates import strategies

    monkeypatch.setattr(surrogates, "propose", strategies.propose)
    camp = tmp_path / "c.toml"
    camp.write_text(SINGLE.replace('kind = "random"', 'kind = "sobol"'))
    s = Session.create(camp, out=tmp_path / "run")
    for qy in (0.3, 0.1):
        (t,) = s.ask()
        s.tell_outcomes(t.experiment_id, {"plqy": qy})
    s.stop("budget")
    s.close()
    text = build_html(tmp_path / "run")
    assert "last proposal (e0002) by space-filling design (Sobol)" in text
    assert '<b id="best-id">e0001</b>' in text and '<p class="rec complete"' in text


def test_trace_switches_to_log_when_far_from_every_target(tmp_path):
    from sdl.report.data import gather
    from sdl.report.plots import plot_trace

    camp = tmp_path / "c.toml"
    camp.write_text(CAMPAIGN)
    s = Session.create(camp, out=tmp_path / "run")
    # 40 and 38 tolerances off: desirability 1/(1 + z^2) ~ 6e-4, utility (geometric mean
    # with plqy, whose desirability is 1 when all values are equal) ~ 0.025
    for peak in (500.0, 505.0):
        (t,) = s.ask()
        s.tell_outcomes(t.experiment_id, {"pl_peak_nm": peak, "plqy": 0.5, "g2_zero": 0.1})
    s.close()
    data = gather(tmp_path / "run")
    assert 0.0 < data.utility["e0002"] < 0.05
    assert plot_trace(data).axes[0].get_yscale() == "log"


def test_gathered_data_and_pareto_points(full_run):
    from sdl.report.data import gather
    from sdl.report.plots import plot_pareto

    data = gather(full_run)
    assert data.phase == "stopped" and not data.live
    assert [e.experiment_id for e in data.top] == ["e0004", "e0005", "e0008"]
    assert dict(data.failures) == {"clog:fouling": 1, "equipment:pump_fault": 1}
    # dispatched -> measured/terminal for the eight dispatched experiments, not e0009
    assert sorted(data.durations_s) == [f"e{i:04d}" for i in range(1, 9)]
    assert all(d >= 0.0 for d in data.durations_s.values())
    # one strategy row per ask(), with the fake proposer's seconds
    assert [(r.k, r.fit_seconds, r.propose_seconds) for r in data.strategy_rows] == [
        (k, 0.5 + k, 1.0 + k) for k in range(9)]
    # Pareto axes: |pl_peak_nm - 620| (minimised) vs plqy (maximised); e0004 (0.5, 0.8)
    # dominates every feasible point; e0003 (20, 0.9) violates g2_zero <= 0.5
    lines = {ln.get_label(): ln for ln in plot_pareto(data).axes[0].lines}
    front = lines["non-dominated"]
    assert list(front.get_xdata()) == [0.5] and list(front.get_ydata()) == [0.8]
    bad = lines["violates a constraint"]
    assert list(bad.get_xdata()) == [20.0] and list(bad.get_ydata()) == [0.9]
    assert sorted(lines["feasible"].get_xdata()) == [5.0, 5.0, 10.0, 20.0]
