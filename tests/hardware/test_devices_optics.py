"""`sdl devices check` on a rig with an optics (light path) device: probed, not switched,
never a crash; a rig without one gets a NOTE that runs will refuse it."""

from __future__ import annotations

import json
import tomllib

from hardware.emulators.control import ControlServer
from sdl.cli import main
from sdl.commands.devices import probe
from sdl.commands.emulate import rig_to_toml
from sdl.schema.rig import OpticsDevice
from tests.hardware.conftest import EXAMPLE_RIG


def test_optics_probe_reaches_the_control_socket_without_switching(emu):
    server = ControlServer(emu).start()
    try:
        emu.world.light, emu.world.cell = "excitation", "sample"  # a run is measuring
        dev = OpticsDevice(role="optics", name="optics", port=f"tcp://127.0.0.1:{server.port}",
                           reference_dye="rhodamine 6G", reference_plqy=0.95,
                           reference_absorbance=0.05, reference_solvent_index=1.361)
        r = probe(dev)
        assert r["ok"], r
        assert "control socket" in r["detail"] and "rhodamine 6G" in r["detail"]
        assert "400 nm" in r["detail"]
        assert (emu.world.light, emu.world.cell) == ("excitation", "sample")
    finally:
        server.stop()


def test_optics_probe_failures_are_one_line_with_a_next_step():
    r = probe(OpticsDevice(role="optics", name="optics", port="tcp://127.0.0.1:1"), 0.2)
    assert not r["ok"] and "control socket" in r["detail"] and "next: start `sdl emulate`" in r["detail"]
    r = probe(OpticsDevice(role="optics", name="optics", port="emuworld://nobody"))
    assert not r["ok"] and "nobody" in r["detail"]
    r = probe(OpticsDevice(role="optics", name="optics", port="/dev/ttyUSB9"))
    assert not r["ok"] and "tcp://HOST:PORT" in r["detail"]


def test_devices_check_rig_with_optics_lists_it_and_exits_3_not_crash(tmp_path, capsys):
    # the reported crash: a rig file with an optics device (probe treated it as a folder)
    code = main(["devices", "check", str(EXAMPLE_RIG), "--timeout", "0.05"])
    out, err = capsys.readouterr()
    assert code == 3 and "internal error" not in err and "Traceback" not in err
    line = [x for x in out.splitlines() if x.split()[1:2] == ["optics"]]
    assert line and line[0].startswith("OK") and "composed" in line[0]
    for name in ("lamp_shutter", "exc_shutter", "led_400", "cell_valve"):  # no such ports here
        line = [x for x in out.splitlines() if x.split()[1:2] == [name]]
        assert line and line[0].startswith("FAIL") and "cannot open port" in line[0]
    assert "NOTE" not in out


def test_devices_check_notes_a_missing_light_path(tmp_path, capsys):
    data = tomllib.loads(EXAMPLE_RIG.read_text())
    data["devices"] = [d for d in data["devices"] if d["role"] not in
                       ("optics", "lamp_shutter", "excitation_shutter", "led_enable", "cell_selector")]
    path = tmp_path / "rig.toml"
    path.write_text(rig_to_toml(data))
    assert main(["devices", "check", str(path), "--timeout", "0.05", "--json"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert len(report["devices"]) == 9
    assert report["notes"] and "no optics device" in report["notes"][0]
