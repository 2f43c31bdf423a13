"""What a user reads: help for every argument, examples in `sdl run --help`, plurals,
4 significant digits and no "± 0" in human output (full precision in --json)."""

from __future__ import annotations

import argparse
import json

from sdl.cli import build_parser, main
from sdl.console import estimate_text, plural, sig4


def _walk(name, parser, out):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for n, sp in a.choices.items():
                _walk(f"{name} {n}", sp, out)
        elif not isinstance(a, argparse._HelpAction) and not a.help:
            out.append(f"{name} {a.option_strings or a.dest}")


def test_every_argument_of_every_command_has_help():
    missing = []
    _walk("sdl", build_parser(), missing)
    assert missing == []


def test_run_help_has_a_description_and_examples(capsys):
    try:
        main(["run", "--help"])
    except SystemExit as e:
        assert e.code == 0
    text = capsys.readouterr().out
    assert "Run a campaign" in text and "examples:" in text
    assert "sdl resume runs/try1 --budget 30" in text


def test_plurals_and_numbers():
    assert plural(1, "objective") == "1 objective" and plural(2, "objective") == "2 objectives"
    assert plural(0, "experiment") == "0 experiments"
    assert sig4(7.342991834853581) == "7.343" and sig4(276.0989075899124) == "276.1"
    assert sig4(3) == "3" and sig4("laminar") == "laminar"
    assert estimate_text({"value": 31.0, "stderr": None}) == "31"
    assert estimate_text({"value": 31.0, "stderr": 0.0}) == "31"
    assert estimate_text({"value": 618.2, "stderr": 0.4}) == "618.2 ± 0.4"
    assert estimate_text({"no_outcome": "flat_spectrum"}) == "flat_spectrum"


def test_validate_says_1_objective(tmp_path, capsys):
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    assert main(["validate", str(root / "campaigns/single_photon.toml")]) == 0
    assert "4 parameters, 1 objective, budget 50 experiments" in capsys.readouterr().out


def test_status_human_output_and_json(tmp_path, tiny_campaign, fake_propose, capsys):
    from sdl.api import Campaign

    run = tmp_path / "run"
    with Campaign.load(tiny_campaign).start(out=run, budget=2) as s:
        (t,) = s.ask()
        s.tell(t.experiment_id, {"pl_peak_nm": (618.2345678, 0.4), "fwhm_nm": 31.0, "plqy": 0.4})
        (t,) = s.ask()
        s.tell(t.experiment_id, {"pl_peak_nm": (630.0, 0.4), "fwhm_nm": 40.0},
               missing={"plqy": "reference cell empty"})
    assert main(["status", str(run)]) == 0
    text = capsys.readouterr().out
    assert f"{run}: complete; 2/2 experiments done, 0 failed" in text
    assert "driven by: external driver (Python ask/tell API)" in text
    assert "pl_peak_nm = 618.2 ± 0.4" in text and "fwhm_nm = 31," in text + ","
    assert "± 0\n" not in text and "± 0," not in text
    assert ("marker not_measured (1 time): the lab reported this outcome as not measured"
            in text)
    assert f"Campaign.resume({str(run)!r}, budget=N)" in text
    for line in text.splitlines():
        if line.strip().startswith("conditions:"):
            assert all(len(v.split(" = ")[1].replace(".", "").lstrip("0")) <= 5
                       for v in line.split(": ", 1)[1].split(", "))
    assert main(["status", str(run), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["best"]["outcomes"]["pl_peak_nm"]["value"] == 618.2345678  # full precision
    assert data["markers"]["not_measured"]["count"] == 1
