"""Sweep files: tasks, effective campaigns, one clear message per problem."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sdl.errors import CampaignError
from sdl.schema.load import campaign_from_dict, load_toml_file
from sdl.sweep.spec import load_sweep
from sdl.sweep.toml_out import dumps

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "campaigns").glob("*.toml")))
def test_campaign_files_round_trip_through_the_toml_writer(name):
    data = load_toml_file(ROOT / "campaigns" / name)
    assert tomllib.loads(dumps(data)) == data


def test_floats_and_strings_round_trip_exactly():
    d = {"a": {"x": 0.1 + 0.2, "tiny": 1e-300, "s": 'quote " and \\ back', "l": [1, 2.5, "t"],
               "nested": {"b": True}}, "arr": [{"n": 1}, {"n": 2, "t": {"k": -3.0}}]}
    assert tomllib.loads(dumps(d)) == d


def _write(tmp_path, body):
    p = tmp_path / "s.toml"
    p.write_text(body)
    return p


def test_tasks_are_campaigns_times_strategies_times_seeds(tmp_path):
    p = _write(tmp_path, f"""
[sweep]
name = "plan"
seeds = {{first = 3, count = 2}}
budget = 5
[[campaigns]]
file = "{ROOT}/campaigns/cdse_620nm.toml"
[[campaigns]]
file = "{ROOT}/campaigns/single_photon.toml"
[[strategies]]
name = "bo4"
kind = "bo"
initial = 4
[[strategies]]
name = "sobol"
kind = "sobol"
""")
    _, tasks, out = load_sweep(p)
    assert out == (tmp_path / "sweeps" / "plan").resolve()
    assert len(tasks) == 2 * 2 * 2
    t = tasks[0]
    assert t.task_id == "cdse_620nm/bo4/seed-3" and t.run_dir == str(out / "cdse_620nm/bo4/seed-3")
    eff = campaign_from_dict(tomllib.loads(t.campaign_toml))
    assert eff.seed == 3 and eff.strategy.kind == "bo" and eff.strategy.initial == 4
    assert eff.budget.experiments == 5 and t.budget == 5
    assert eff.strategy.proximal == {"temperature_c": 0.1}  # the rest of the file is kept
    assert {x.task_id for x in tasks} >= {"single_photon/sobol/seed-4"}


def test_bad_strategy_override_names_the_file_the_variant_and_the_field(tmp_path):
    p = _write(tmp_path, f"""
[sweep]
name = "plan"
seeds = [1]
[[campaigns]]
file = "{ROOT}/campaigns/cdse_620nm.toml"
[[strategies]]
name = "odd"
kind = "annealing"
""")
    with pytest.raises(CampaignError) as e:
        load_sweep(p)
    msg = str(e.value)
    assert "cdse_620nm.toml" in msg and "odd" in msg and "strategy.kind" in msg


def test_bad_sweep_fields_and_missing_campaign_file(tmp_path):
    p = _write(tmp_path, """
[sweep]
name = "plan"
seeds = []
[[campaigns]]
file = "nowhere.toml"
""")
    with pytest.raises(CampaignError) as e:
        load_sweep(p)
    assert "sweep.seeds" in str(e.value)
    p = _write(tmp_path, """
[sweep]
name = "plan"
seeds = [1]
[[campaigns]]
file = "nowhere.toml"
""")
    with pytest.raises(CampaignError) as e:
        load_sweep(p)
    assert "nowhere.toml" in str(e.value) and "file not found" in str(e.value)
