"""`sdl bench bo --settings`: overrides of the optimiser's effort knobs for A/B runs."""

import pytest

from benchmarks.bench_bo import main, parse_settings


def test_parse_settings_types_each_override_like_its_field():
    got = parse_settings("refit_every=0, hv_mc_samples=128,ftol=1e-9,loo_jump=2")
    assert got == {"refit_every": 0, "hv_mc_samples": 128, "ftol": 1e-9, "loo_jump": 2.0}
    assert isinstance(got["loo_jump"], float) and isinstance(got["refit_every"], int)
    assert parse_settings("") == {}


@pytest.mark.parametrize("text", ["nope=1", "refit_every", "refit_every=x", "num_restarts=2.5", "feasibility_grid=1"])
def test_parse_settings_rejects_unknown_keys_and_non_numbers(text):
    with pytest.raises(ValueError, match="--settings item"):
        parse_settings(text)


def test_bench_bo_exits_2_with_one_line_on_a_bad_setting(capsys):
    assert main(["--settings", "warp=9", "--methods", "bo"]) == 2
    err = capsys.readouterr().err
    assert "warp=9" in err and "refit_every" in err and "Traceback" not in err
