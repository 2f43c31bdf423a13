"""Read-only commands stay lean: `sdl status` and `sdl audit` never import torch (0.4 GB
of RSS and seconds of start-up that a status check does not need)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from sdl.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'botorch', 'gpytorch', 'distributed'})
print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from pathlib import Path

    from sdl.sweep.spec import load_sweep
    from sdl.sweep.task import run_task

    root = Path(__file__).resolve().parents[3]
    d = tmp_path_factory.mktemp("lazy")
    p = d / "s.toml"
    p.write_text(f'[sweep]\nname = "l"\nseeds = [1]\nbudget = 2\n[[campaigns]]\n'
                 f'file = "{root}/campaigns/cdse_620nm.toml"\n[[strategies]]\nname = "s"\nkind = "sobol"\n')
    _, tasks, _ = load_sweep(p)
    return run_task(tasks[0])["run_dir"]


@pytest.mark.parametrize("command", ["status", "audit"])
def test_read_only_commands_do_not_import_torch(run_dir, command):
    r = subprocess.run([sys.executable, "-c", PROBE, command, run_dir, "--json"],
                       capture_output=True, text=True, timeout=120)
    probe = json.loads(r.stderr.strip().splitlines()[-1])
    assert probe["code"] == 0, r.stderr
    assert probe["heavy"] == [], probe
