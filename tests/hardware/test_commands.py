"""CLI: `sdl emulate` writes a rig file of emulated ports; `sdl devices check` probes it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from sdl.cli import main
from tests.hardware.conftest import EXAMPLE_RIG
from tests.runs import ROOT, wait_for_file


def test_emulate_then_devices_check(tmp_path):
    out = tmp_path / "emu_rig.toml"
    proc = subprocess.Popen([sys.executable, "-m", "sdl.cli", "emulate", str(EXAMPLE_RIG),
                             "--write-rig", str(out), "--fault", "heater_shell:sensor_break"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_file(proc, out, 30)
        check = subprocess.run([sys.executable, "-m", "sdl.cli", "devices", "check", str(out)],
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert check.returncode == 3, check.stdout + check.stderr
        lines = check.stdout.splitlines()
        assert any(line.startswith("OK   pump_solvent") and "NE1000" in line for line in lines)
        assert any(line.startswith("OK   sts") and "1024 px" in line for line in lines)
        assert any(line.startswith("FAIL heater_shell") and "sensor break" in line for line in lines)
        assert any(line.startswith("OK   optics") and "composed" in line for line in lines)
        assert any(line.startswith("OK   lamp_shutter") and "SC10" in line and "closed" in line
                   for line in lines)
        assert any(line.startswith("OK   led_400") and "relay 0 off" in line for line in lines)
        assert any(line.startswith("OK   cell_valve") and "position 1 (sample" in line
                   for line in lines)
        assert "1 of 14 devices did not answer: heater_shell" in check.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            stdout, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, _ = proc.communicate()
    assert proc.returncode == 0
    assert "pump_metal" in stdout and "control:  127.0.0.1:" in stdout and "stopped" in stdout
    link = Path(stdout.splitlines()[0].split()[1])
    assert link.name.startswith("emu-line") and not link.parent.exists()  # cleaned up


def test_devices_check_unreachable_exits_3(tmp_path, capsys):
    rig = EXAMPLE_RIG.read_text().replace("/dev/serial/by-id/usb-FTDI_pump_bus-if00-port0",
                                          "emu://no-such-line")
    path = tmp_path / "rig.toml"
    path.write_text(rig)
    code = main(["devices", "check", str(path), "--timeout", "0.05"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "FAIL pump_metal" in out and "cannot open port" in out and "next:" in out
    assert "did not answer" in err


def test_emulate_rejects_bad_fault(tmp_path, capsys):
    code = main(["emulate", str(EXAMPLE_RIG), "--write-rig", str(tmp_path / "o.toml"),
                 "--fault", "pump_metal"])
    assert code == 2
    assert "DEVICE:FAULT" in capsys.readouterr().err


def test_written_rig_round_trips(tmp_path):
    from sdl.commands.emulate import rig_to_toml
    from sdl.schema.load import load_rig, parse_toml_bytes, rig_from_dict

    rig = load_rig(EXAMPLE_RIG)
    text = rig_to_toml(rig.model_dump(mode="python"))
    again = rig_from_dict(parse_toml_bytes(text.encode()))
    assert again == rig


def test_devices_check_all_ok_json(emu, tmp_path, capsys):
    import json

    from hardware.optics_path import register_world, unregister_world
    from sdl.commands.emulate import rig_to_toml

    data = emu.rig.model_dump(mode="python")
    for dev in data["devices"]:
        if dev["name"] in emu.urls:
            dev["port"] = emu.urls[dev["name"]]
        elif dev["role"] == "optics":  # also the back-channel light path, for this test
            dev["port"] = register_world("devices-check-json", emu.world)
            dev["driver"] = "emulator_backchannel"
        else:
            dev["folder"] = str(tmp_path)
    data["devices"] = [d for d in data["devices"] if d["role"] not in
                       ("lamp_shutter", "excitation_shutter", "led_enable", "cell_selector")]
    path = tmp_path / "rig.toml"
    path.write_text(rig_to_toml(data))
    try:
        assert main(["devices", "check", str(path), "--json", "--timeout", "0.2"]) == 0
    finally:
        unregister_world("devices-check-json")
    report = json.loads(capsys.readouterr().out)
    assert [d["ok"] for d in report["devices"]] == [True] * 10
    assert "NE1000V3.928" in report["devices"][0]["detail"]
    # probing only reads: no pump was started, no setpoint written
    assert all(not p.running for p in emu.world.pumps.values())
    assert all(not h.eeprom_writes for h in emu.world.heaters.values())


def test_optics_controls_through_control_socket(emu):
    from hardware.emulators.control import ControlServer, send_fault

    server = ControlServer(emu).start()
    try:
        assert send_fault(server.port, "optics:dark") == "ok"
        assert send_fault(server.port, "optics:solvent") == "ok"
        assert (emu.world.light, emu.world.cell) == ("dark", "solvent")
        assert send_fault(server.port, "optics:excitation") == "ok"
        assert send_fault(server.port, "optics:sample") == "ok"
        assert (emu.world.light, emu.world.cell) == ("excitation", "sample")
        assert send_fault(server.port, "optics:bright").startswith("error: unknown optics")
    finally:
        server.stop()
