"""Semantic validation: campaigns that are schema-valid but would waste a night exit 2
with one line naming the field, the value and what is allowed; fuzzed with hypothesis."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdl.cli import main
from sdl.errors import CampaignError
from sdl.schema.load import campaign_from_dict
from sdl.schema.semantics import (
    IGNORED_CONDITIONS,
    SPECTROMETER_RANGE_NM,
    check_campaign,
    outcome_range,
    semantic_problems,
)

ROOT = Path(__file__).resolve().parents[3]
BASE = (ROOT / "campaigns/cdse_620nm.toml").read_text()



def _add_parameter(name: str, low: float, high: float):
    """An edit that adds a sixth parameter `name` (low..high) to the campaign text."""
    table = f'[[parameters]]\nname = "{name}"\nlow = {low}\nhigh = {high}\n\n[[objectives]]'
    return lambda t: t.replace("[[objectives]]", table, 1)


# (name, edit of the default campaign, the one line's expected start after "FILE: ")
IMPOSSIBLE = [
    ("target_2000nm", lambda t: t.replace("target = 620", "target = 2000"),
     "objectives[0].target = 2000: CdSe cannot give pl_peak_nm there; allowed: 420-730 nm"),
    ("mn_ratio_on_cdse", lambda t: t.replace('name = "fwhm_nm"\ngoal = "minimize"',
                                             'name = "mn_ratio"\ngoal = "maximize"'),
     "objectives[1].name = 'mn_ratio': CdSe cannot give it"),
    ("g2_without_photons", lambda t: t.replace(
        "[fixed]", '[[constraints]]\noutcome = "g2_zero"\nmax = 0.5\n\n[fixed]'),
     "constraints[0].outcome = 'g2_zero': needs photon acquisition"),
    ("br_to_pb_on_cdse", _add_parameter("br_to_pb", 1.0, 5.0),
     "parameters[5].name = 'br_to_pb': CdSe ignores it"),
    ("initial_over_budget", lambda t: t.replace("initial = 8", "initial = 100"),
     "strategy.initial = 100: more than budget.experiments = 60"),
    ("high_as_string", lambda t: t.replace("high = 300", 'high = "300"'),
     "parameters[0].high = '300': must be a number, not a string"),
    ("low_as_boolean", lambda t: t.replace("low = 220", "low = true"),
     "parameters[0].low = true: must be a number, not true/false"),
    ("constraint_beyond_plqy", lambda t: t + '\n[[constraints]]\noutcome = "plqy"\nmin = 1.5\n',
     "constraints[0].min = 1.5: no CdSe sample can have plqy that high; allowed: 0-1"),
    ("photon_knob_without_g2", _add_parameter("acquisition_s", 1, 30),
     "parameters[5].name = 'acquisition_s': it only sets the photon acquisition"),
    ("fixed_flow_format", lambda t: t.replace('flow_format = "laminar"', 'flow_format = "turbulent"'),
     "fixed.flow_format = 'turbulent'; allowed: ['laminar', 'segmented']"),
    ("lab_time_without_bo", lambda t: t.replace('kind = "bo"', 'kind = "sobol"\nlab_time_aware = true'),
     "strategy.lab_time_aware = true: only Bayesian optimisation uses it, and strategy.kind = "
     "'sobol'; allowed: kind = \"bo\", or remove it"),
]


@pytest.mark.parametrize("name, edit, expected", IMPOSSIBLE, ids=[c[0] for c in IMPOSSIBLE])
def test_each_impossible_campaign_exits_2_with_one_line(tmp_path, capsys, name, edit, expected):
    path = tmp_path / f"{name}.toml"
    path.write_text(edit(BASE))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line
    assert err.startswith(f"sdl validate: error: {path}: {expected}"), err
    assert "<file>" not in err and "Traceback" not in err
    # the same refusal at `sdl run`, before any run directory exists
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 2
    assert expected in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_the_shipped_campaigns_are_semantically_valid():
    for p in sorted((ROOT / "campaigns").glob("*.toml")):
        c = campaign_from_dict(tomllib.loads(p.read_text()))
        assert semantic_problems(c) == [], p


def test_wavelength_ranges_never_exceed_the_spectrometer():
    lo, hi = SPECTROMETER_RANGE_NM
    for material in IGNORED_CONDITIONS:
        for outcome in ("abs_peak_nm", "pl_peak_nm"):
            r = outcome_range(material, outcome)
            assert lo <= r.low < r.high <= hi


def test_run_budget_override_below_initial_is_a_note_not_an_error():
    c = campaign_from_dict(tomllib.loads(BASE))
    assert semantic_problems(c, budget=3) == []


# --------------------------------------------------------------------------- fuzzing

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
_FIELDS = [("parameters", 0, "low"), ("parameters", 0, "high"), ("parameters", 1, "low"),
           ("objectives", 0, "target"), ("objectives", 0, "tolerance"), ("objectives", 0, "name"),
           ("objectives", 1, "name"), ("budget", None, "experiments"), ("budget", None, "hours"),
           ("strategy", None, "initial"), ("strategy", None, "batch"), ("campaign", None, "seed"),
           ("campaign", None, "material"), ("parameters", 2, "name")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.sampled_from(_FIELDS), _SCALARS), max_size=4))
def test_fuzzed_campaigns_are_refused_with_lines_or_accepted_consistently(edits):
    """Any edit of the default campaign either validates (then every number is a real
    number where one belongs, and semantics hold) or raises CampaignError with one
    non-empty line per problem, never another exception."""
    data = tomllib.loads(BASE)
    for (table, index, key), value in edits:
        target = data[table] if index is None else data[table][index]
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    try:
        c = campaign_from_dict(data, "fuzz.toml")
        check_campaign(c, "fuzz.toml")
    except CampaignError as e:
        assert e.problems and all(p.strip() and "\n" not in p for p in e.problems)
        assert all("<file>" not in p for p in e.problems)
        return
    for p in c.parameters:
        if p.type != "categorical":
            assert type(p.low) is float and type(p.high) is float  # no bools or strings
    assert not isinstance(c.budget.experiments, bool)
    assert c.strategy.kind != "bo" or c.strategy.initial <= c.budget.experiments
    for o in c.objectives:
        r = outcome_range(c.campaign.material, o.name)
        if o.goal == "target" and r is not None:
            assert r.low <= o.target <= r.high
        assert o.name != "mn_ratio" or c.campaign.material.startswith("Mn:")
