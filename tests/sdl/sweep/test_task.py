"""Sweep tasks are ordinary runs: recorded, auditable, replayable, resumable, skipped
when finished; the Dask engine gives the same rows as the serial one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sdl.audit import audit
from sdl.cli import main
from sdl.replay import verify
from sdl.sweep.executor import ClusterUnavailable, run_tasks
from sdl.sweep.spec import load_sweep
from sdl.sweep.task import run_task
from surrogates.warm import clear_cache

ROOT = Path(__file__).resolve().parents[3]
VOLATILE = ("seconds", "cpu_seconds", "action", "run_dir")


def _sweep(tmp_path, strategies, seeds="[11]", budget=8):
    p = tmp_path / "s.toml"
    p.write_text(f"""
[sweep]
name = "t"
seeds = {seeds}
budget = {budget}
[[campaigns]]
file = "{ROOT}/campaigns/cdse_620nm.toml"
{strategies}
""")
    return p


def _stable(rows):
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


@pytest.mark.slow
def test_bo_task_with_warm_starts_audits_clean_and_replays_bit_for_bit(tmp_path):
    # initial 3, budget 8: BO at n = 3..7, full GP fit at n = 5, warm-started at 6 and 7
    p = _sweep(tmp_path, '[[strategies]]\nname = "bo"\nkind = "bo"\ninitial = 3')
    _, tasks, _ = load_sweep(p)
    row = run_task(tasks[0])
    assert row["status"] == "complete" and row["action"] == "ran" and row["experiments"] == 8
    assert audit(row["run_dir"]).clean
    clear_cache()  # replay recomputes every anchor fit from scratch
    res = verify(row["run_dir"]).to_json()
    assert res["identical"] and res["decisions"] == 8, res["differences"]
    assert run_task(tasks[0])["action"] == "skipped"


def test_cli_sweep_then_rerun_skips_every_finished_run(tmp_path, capsys):
    p = _sweep(tmp_path, '[[strategies]]\nname = "sobol"\nkind = "sobol"\n'
                         '[[strategies]]\nname = "random"\nkind = "random"', seeds="[1, 2]", budget=3)
    assert main(["sweep", str(p), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert [r["action"] for r in first["tasks"]] == ["ran"] * 4
    assert all(r["experiments"] == 3 and r["status"] == "complete" for r in first["tasks"])
    assert Path(first["summary_csv"]).read_text().startswith("task_id,campaign_file,strategy,seed")
    assert main(["sweep", str(p), "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert [r["action"] for r in second["tasks"]] == ["skipped"] * 4
    assert _stable(second["tasks"]) == _stable(first["tasks"])
    assert set(second["by_strategy"]) == {"cdse_620nm/sobol", "cdse_620nm/random"}


def test_an_interrupted_run_is_resumed_not_restarted(tmp_path):
    from sdl.session import Session

    p = _sweep(tmp_path, '[[strategies]]\nname = "sobol"\nkind = "sobol"', budget=4)
    _, tasks, _ = load_sweep(p)
    t = tasks[0]
    cpath = tmp_path / "c.toml"
    cpath.write_text(t.campaign_toml)
    s = Session.create(cpath, out=t.run_dir, budget=t.budget)
    s.ask()  # proposed, never run: the process "crashed"
    s.close()
    row = run_task(t)
    assert row["action"] == "resumed" and row["experiments"] == 4 and row["status"] == "complete"
    assert audit(t.run_dir).clean


def test_workers_without_dask_say_install_the_cluster_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # stand-in for "not installed"
    with pytest.raises(ClusterUnavailable, match="install the cluster extra"):
        run_tasks(abs, [1, -2], workers=2)
    assert run_tasks(abs, [1, -2]) == [1, 2]  # serial needs no Dask


@pytest.mark.slow
def test_dask_workers_give_the_serial_rows(tmp_path):
    pytest.importorskip("distributed")
    body = '[[strategies]]\nname = "sobol"\nkind = "sobol"\n[[strategies]]\nname = "random"\nkind = "random"'
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, serial_tasks, _ = load_sweep(_sweep(tmp_path / "a", body, seeds="[1, 2]", budget=3))
    _, dask_tasks, _ = load_sweep(_sweep(tmp_path / "b", body, seeds="[1, 2]", budget=3))
    serial = run_tasks(run_task, serial_tasks)
    seen = []
    parallel = run_tasks(run_task, dask_tasks, workers=2, progress=lambda d, n, r: seen.append(d))
    assert seen == [1, 2, 3, 4]
    assert _stable(parallel) == _stable(serial)
    assert [r["task_id"] for r in parallel] == [t.task_id for t in dask_tasks]
