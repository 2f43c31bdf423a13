"""The example rig (campaigns/rigs/example_rig.toml: NE-1000 pumps, Eurotherm heaters, an
Ocean STS, SC10 shutters, a Numato LED relay, a VICI cell selector) emulated over real
pseudo-terminals by `sdl emulate`, checked by `sdl devices check` (every device OK), then a
short campaign through FlowRig and the real drivers, audit clean."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import tomllib

import pytest

from sdl.audit import audit
from sdl.cli import main
from sdl.commands.emulate import rig_to_toml
from tests.runs import ROOT, rig_campaign, run_state, wait_for_file

EXAMPLE_RIG = ROOT / "campaigns" / "rigs" / "example_rig.toml"
SPEED = 100.0  # emulated seconds per wall second


@pytest.mark.slow
def test_example_rig_emulated_checks_ok_and_runs_a_campaign(tmp_path, capsys):
    out_rig = tmp_path / "emu_rig.toml"
    proc = subprocess.Popen([sys.executable, "-m", "sdl.cli", "emulate", str(EXAMPLE_RIG),
                             "--write-rig", str(out_rig), "--speed", str(SPEED), "--seed", "5"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_file(proc, out_rig, 60)
        time.sleep(0.3)
        # every device of the example rig answers its real driver over a pty
        assert main(["devices", "check", str(out_rig), "--timeout", "1"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len([x for x in lines if x.startswith("OK")]) == 14, lines
        assert any(x.startswith("OK   lamp_shutter") and "SC10" in x for x in lines)
        assert any(x.startswith("OK   cell_valve") and "VICI" in x for x in lines)
        assert any(x.startswith("OK   led_400") and "Numato" in x for x in lines)
        # rehearsal tuning only: at SPEED x, a 10 s pump watchdog is 0.1 s of wall time
        data = tomllib.loads(out_rig.read_text())
        for d in data["devices"]:
            if d["role"] == "pump":
                d["watchdog_s"] = 255
        out_rig.write_text(rig_to_toml(data))
        run = tmp_path / "run"
        # a 500 uL reactor: residence 60-120 s keeps the flush within the syringes
        campaign = rig_campaign(tmp_path, 2, residence_s=(60, 120), temperature_c=(230, 260))
        code = main(["run", str(campaign), "--rig", str(out_rig), "--out", str(run),
                     "--no-report"])
        text = capsys.readouterr().out
        assert code == 0, text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    st = run_state(run)
    assert len(st.completed) == 2 and st.stopped["reason"] == "budget"
    assert [e.status for e in st.completed] == ["scored", "scored"], \
        [e.failure for e in st.completed]
    result = audit(run)
    assert result.clean, result.problems
