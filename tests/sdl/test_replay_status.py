"""replay --verify recomputes each decision; status reports the run read-only."""

from __future__ import annotations

import json

import pytest

from sdl.cli import main
from sdl.loop import run_loop
from sdl.replay import verify
from sdl.session import Session

from .conftest import TinyRig, uniform_propose


@pytest.fixture
def run_dir(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    s = Session.create(tiny_campaign, out=tmp_path / "run")
    run_loop(s, TinyRig(fail_ids={"e0003"}), say=lambda m: None)
    s.close()
    return tmp_path / "run"


def test_verify_identical(run_dir, capsys):
    res = verify(run_dir)
    assert res.decisions == 6 and res.differences == []
    assert main(["replay", str(run_dir), "--verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True


def test_verify_reports_a_changed_decision(run_dir, monkeypatch, capsys):
    import surrogates

    def shifted(campaign, history, k, pending=(), n=None):
        props, info = uniform_propose(campaign, history, k, pending, n)
        if k == 2:
            props[0].conditions["temperature_c"] += 1.0
        return props, info

    monkeypatch.setattr(surrogates, "propose", shifted)
    res = verify(run_dir)
    assert [d["experiment_id"] for d in res.differences] == ["e0003"]
    assert main(["replay", str(run_dir), "--verify"]) == 1
    assert "1 differ" in capsys.readouterr().out


def test_status_json(run_dir, capsys):
    assert main(["status", str(run_dir), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["state"] == "complete"
    assert s["experiments_completed"] == 6 and s["experiments_failed"] == 1
    assert s["best"]["experiment_id"].startswith("e")


def test_status_of_non_run_dir(tmp_path, capsys):
    assert main(["status", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_utility_desirability_values(tiny_campaign):
    """Derringer-Suich style geometric mean with a Cauchy target desirability."""
    from sdl.schema import load_campaign
    from sdl.utility import target_reached, utilities

    c = load_campaign(tiny_campaign)  # pl_peak 620 +/- 3, fwhm min, plqy max
    a = {"pl_peak_nm": {"value": 623.0}, "fwhm_nm": {"value": 20.0}, "plqy": {"value": 0.8}}
    b = {"pl_peak_nm": {"value": 620.0}, "fwhm_nm": {"value": 40.0}, "plqy": {"value": 0.4}}
    ua, ub = utilities(c, [a, b])
    # a: d_target = 1/(1+1) = 0.5, best fwhm and plqy -> d = 1, 1: (0.5*1*1)^(1/3)
    assert ua == pytest.approx(0.5 ** (1 / 3))
    # b: d_target = 1, worst fwhm and plqy -> 0.05 each
    assert ub == pytest.approx((0.05 * 0.05) ** (1 / 3))
    assert target_reached(c, a) and target_reached(c, b)
    assert not target_reached(c, {"pl_peak_nm": {"value": 623.5}})


def test_ask_and_replay_share_one_proposal_step(tmp_path, tiny_campaign, fake_scorer, monkeypatch):
    """`Session.ask` and `replay --verify` call the strategy through the same function with
    the same inputs (history ids in finishing order, pending conditions, k, n)."""
    import surrogates

    calls: list[tuple] = []

    def recording(campaign, history, k, pending=(), n=None):
        calls.append(([h.experiment_id for h in history], [dict(p.conditions) for p in pending],
                      k, n))
        return uniform_propose(campaign, history, k, pending, n)

    monkeypatch.setattr(surrogates, "propose", recording, raising=False)
    s = Session.create(tiny_campaign, out=tmp_path / "run")
    run_loop(s, TinyRig(fail_ids={"e0002"}), say=lambda m: None)
    s.close()
    during_run, calls[:] = list(calls), []
    assert verify(tmp_path / "run").differences == []
    assert calls == during_run and len(during_run) >= 2
