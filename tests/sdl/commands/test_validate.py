"""`sdl validate` / `sdl schema` through the real entry point: exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sdl.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_validate_ok(capsys):
    assert main(["validate", str(ROOT / "campaigns/cdse_620nm.toml")]) == 0
    assert "valid campaign 'cdse-620nm'" in capsys.readouterr().out


def test_validate_rig_ok(capsys):
    assert main(["validate", str(ROOT / "campaigns/rigs/example_rig.toml")]) == 0
    assert "valid rig" in capsys.readouterr().out


def test_validate_bad_file_exit_2_one_line_per_problem(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "campaigns/cdse_620nm.toml").read_text().replace("low = 220", "low = 400", 1)
                   .replace("experiments = 60", "experiments = -1"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "budget.experiments = -1" in err
    assert "parameters[0]" in err
    assert "Traceback" not in err


def test_validate_missing_file(capsys):
    assert main(["validate", "/nonexistent/c.toml"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_validate_neither_kind(tmp_path, capsys):
    f = tmp_path / "x.toml"
    f.write_text("a = 1\n")
    assert main(["validate", str(f)]) == 2
    assert "neither a campaign file" in capsys.readouterr().err


def test_schema_prints_json(capsys):
    assert main(["schema", "campaign"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "parameters" in schema["properties"]


def test_console_script_no_traceback(tmp_path):
    f = tmp_path / "bin.toml"
    f.write_bytes(b"\x00\xff\xfe garbage")
    r = subprocess.run([sys.executable, "-m", "sdl.cli", "validate", str(f)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "not UTF-8" in r.stderr
