"""Campaign and rig schema: the shipped files validate; bad files give one clear message
per problem (field path, value, what is allowed) and never an uncaught exception."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdl.errors import CampaignError
from sdl.schema import load_campaign, load_rig
from sdl.schema.load import (
    campaign_from_dict,
    campaign_from_toml,
    parse_toml_bytes,
    rig_from_dict,
    rig_name,
)

ROOT = Path(__file__).resolve().parents[3]
CAMPAIGNS = sorted((ROOT / "campaigns").glob("*.toml"))
RIGS = sorted((ROOT / "campaigns" / "rigs").glob("*.toml"))


def test_shipped_files_exist():
    names = {p.name for p in CAMPAIGNS}
    assert {"cdse_620nm.toml", "mn_doping.toml", "single_photon.toml"} <= names
    assert (ROOT / "campaigns" / "rigs" / "example_rig.toml") in RIGS


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.name)
def test_shipped_campaigns_validate(path):
    c = load_campaign(path)
    assert c.budget.experiments >= 1
    assert c.outcome_names[0] == c.objectives[0].name


@pytest.mark.parametrize("path", RIGS, ids=lambda p: p.name)
def test_shipped_rigs_validate(path):
    r = load_rig(path)
    assert r.pumps()


def _base() -> dict:
    return tomllib.loads((ROOT / "campaigns" / "cdse_620nm.toml").read_text())


def _problems(data: dict) -> list[str]:
    with pytest.raises(CampaignError) as ei:
        campaign_from_dict(data, "c.toml")
    return ei.value.problems


def test_target_objective_infers_goal():
    c = campaign_from_dict(_base())
    assert c.objectives[0].goal == "target"
    assert c.objectives[0].target == 620


def test_unknown_key_is_an_error():
    d = _base()
    d["budget"]["experimets"] = 3
    (msg,) = _problems(d)
    assert msg.startswith("budget.experimets") and "unknown key" in msg


def test_low_above_high_names_field_and_values():
    d = _base()
    d["parameters"][0]["low"] = 310
    probs = _problems(d)
    assert any("parameters[0]" in p and "310" in p and "below" in p for p in probs)


def test_unknown_parameter_name_lists_allowed():
    d = _base()
    d["parameters"][0]["name"] = "temperature_C"
    (msg,) = _problems(d)
    assert "temperature_C" in msg and "temperature_c" in msg


def test_range_beyond_physical_bounds():
    d = _base()
    d["parameters"][0]["high"] = 900
    (msg,) = _problems(d)
    assert "physical bounds" in msg and "350" in msg


def test_duplicate_parameter_names():
    d = _base()
    d["parameters"].append(copy.deepcopy(d["parameters"][0]))
    assert any("duplicate parameter names ['temperature_c']" in p for p in _problems(d))


def test_wrong_type_names_value():
    d = _base()
    d["budget"]["experiments"] = "sixty"
    (msg,) = _problems(d)
    assert msg.startswith("budget.experiments = 'sixty'")


def test_missing_required_field():
    d = _base()
    del d["budget"]
    assert _problems(d) == ["budget: missing required field"]


def test_log_scale_needs_positive_low():
    d = _base()
    d["parameters"][2] = {"name": "se_to_cd", "low": 0.2, "high": 4, "scale": "log"}
    campaign_from_dict(d)  # 0.2 > 0 is fine
    d["parameters"][2]["low"] = -1
    assert _problems(d)


def test_target_needs_tolerance():
    d = _base()
    del d["objectives"][0]["tolerance"]
    (msg,) = _problems(d)
    assert "tolerance" in msg


def test_input_constraint_must_name_parameters():
    d = _base()
    d["input_constraints"] = [{"terms": {"dopant_feed_fraction": 1.0}, "max": 0.1}]
    (msg,) = _problems(d)
    assert "not parameters" in msg


def test_fixed_condition_bounds():
    d = _base()
    d["fixed"] = {"acquisition_s": 1e6}
    (msg,) = _problems(d)
    assert "fixed.acquisition_s" in msg and "600" in msg


def test_non_utf8_bytes():
    with pytest.raises(CampaignError, match="not UTF-8"):
        parse_toml_bytes(b"[campaign]\nname = \"\xff\xfe\"\n")


def test_huge_input_refused():
    with pytest.raises(CampaignError, match="larger than"):
        parse_toml_bytes(b"#" * 2_000_000)


def test_rig_requires_core_heater():
    d = tomllib.loads((ROOT / "campaigns/rigs/example_rig.toml").read_text())
    d["devices"] = [x for x in d["devices"] if x["role"] != "heater"]
    with pytest.raises(CampaignError, match="heater"):
        rig_from_dict(d)


def test_rig_pump_unknown_inlet():
    d = tomllib.loads((ROOT / "campaigns/rigs/example_rig.toml").read_text())
    d["devices"][0]["inlet"] = "water"
    with pytest.raises(CampaignError) as ei:
        rig_from_dict(d, "rig.toml")
    assert any("devices[0]" in p and "inlet" in p for p in ei.value.problems)


# --- property test: random mutations of valid files never escape as anything else ---

_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(d, prefix=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _mutate(d, path, op, value):
    target = d
    for p in path[:-1]:
        target = target[p]
    key = path[-1]
    if op == "delete":
        if isinstance(target, dict):
            del target[key]
        else:
            target.pop(key)
    elif op == "set":
        target[key] = value
    elif op == "duplicate" and isinstance(target, list):
        target.append(copy.deepcopy(target[key]))
    elif op == "add_key" and isinstance(target, dict):
        target[f"{key}_typo"] = value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_campaigns_give_clean_errors(data):
    path_file = data.draw(st.sampled_from(CAMPAIGNS))
    d = tomllib.loads(path_file.read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(d))
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        op = data.draw(st.sampled_from(["delete", "set", "duplicate", "add_key"]))
        _mutate(d, path, op, data.draw(_values))
    try:
        campaign_from_dict(d, "mutated.toml")
    except CampaignError as e:
        assert e.problems and all(isinstance(p, str) and p for p in e.problems)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=400))
def test_random_bytes_give_clean_errors(raw):
    try:
        data = parse_toml_bytes(raw, "fuzz.toml")
        campaign_from_dict(data, "fuzz.toml")
    except CampaignError as e:
        assert e.problems


def test_shell_material_fixed_or_categorical_validated_per_material():
    # shell_material (ZnS | CdS): CdS only on CdSe cores, no shell on CsPbBr3 (issue 13).
    d = _base()
    d["fixed"] = {"shell_material": "CdS"}
    assert campaign_from_dict(d).fixed["shell_material"] == "CdS"
    d["parameters"].append({"name": "shell_material", "type": "categorical",
                            "values": ["ZnS", "CdS"]})
    d["fixed"] = {}
    assert [p.name for p in campaign_from_dict(d).parameters][-1] == "shell_material"
    mn = tomllib.loads((ROOT / "campaigns" / "mn_doping.toml").read_text())
    mn["fixed"]["shell_material"] = "CdS"
    (msg,) = _problems(mn)
    assert "CdS" in msg and "Mn:ZnSe" in msg
    d = _base()
    d["campaign"]["material"] = "CsPbBr3"
    d["fixed"] = {"shell_material": "ZnS"}
    assert any("takes no shell" in p for p in _problems(d))


def test_count_rate_constraint_needs_photons():
    # The single-photon campaign's brightness floor (count_rate_kcps) makes the rig record
    # a photon stream.
    c = load_campaign(ROOT / "campaigns" / "single_photon.toml")
    assert any(k.outcome == "count_rate_kcps" and k.min == 100 for k in c.constraints)
    d = _base()
    d["constraints"] = [{"outcome": "count_rate_kcps", "min": 10}]
    assert campaign_from_dict(d).wants_photons


def test_count_rate_alone_needs_acquisition_time():
    # A campaign constraining only count_rate_kcps still needs a photon acquisition time.
    from sdl.schema.semantics import semantic_problems

    d = _base()
    d["constraints"] = [{"outcome": "count_rate_kcps", "min": 10}]
    probs = semantic_problems(campaign_from_dict(d))
    assert any(p.startswith("constraints[0].outcome = 'count_rate_kcps'") and "acquisition" in p
               for p in probs)


def test_campaign_from_toml_reads_bytes_and_recorded_text():
    raw = (ROOT / "campaigns" / "cdse_620nm.toml").read_bytes()
    from_bytes = campaign_from_toml(raw)
    assert campaign_from_toml(raw.decode("utf-8")) == from_bytes  # the text a record keeps
    assert from_bytes == campaign_from_dict(tomllib.loads(raw.decode("utf-8")))
    with pytest.raises(CampaignError, match="run/record.sqlite"):
        campaign_from_toml("[campaign\n", "run/record.sqlite")  # not TOML: names `where`


def test_rig_name_is_a_label():
    raw = (ROOT / "campaigns" / "rigs" / "example_rig.toml").read_bytes()
    assert rig_name(raw) == tomllib.loads(raw.decode())["rig"]["name"] != ""
    assert rig_name(b"[rig\n") == "" and rig_name(b"") == ""
