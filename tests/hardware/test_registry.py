"""The driver registry: entry points in `qd_sdl.drivers`, capability Protocols checked
when a rig file loads (one clear error naming what is missing), `sdl devices list`."""

from __future__ import annotations

import json
import tomllib

import pytest

from hardware import registry
from hardware.capabilities import Shutter, missing_members
from hardware.registry import DriverError, DriverSpec, Registered
from sdl.cli import main
from sdl.commands.emulate import rig_to_toml
from tests.hardware.conftest import EXAMPLE_RIG

BUILT_IN = {"ne1000", "harvard_elite", "harvard_phd", "eurotherm3216", "ocean_obp", "seabreeze",
            "ptu_folder", "thorlabs_sc10", "vici_universal", "numato_relay", "numato_gpio",
            "composed", "emulator_backchannel"}


def test_devices_list_json_lists_every_builtin_from_our_package(capsys):
    assert main(["devices", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 8
    by_name = {r["name"]: r for r in rows}
    assert BUILT_IN <= set(by_name)
    assert by_name["thorlabs_sc10"]["protocol"] == "Shutter"
    assert by_name["vici_universal"]["role"] == "cell_selector"
    assert by_name["seabreeze"]["transport"].startswith("USB")
    assert by_name["harvard_elite"]["protocol"] == "Pump"
    assert all(by_name[n]["package"] == "qd-sdl" for n in BUILT_IN)
    assert all(set(r) >= {"name", "role", "protocol", "transport", "package"} for r in rows)


def test_devices_list_text(capsys):
    assert main(["devices", "list"]) == 0
    out = capsys.readouterr().out
    assert "numato_relay" in out and "CellSelector" in out


def _rig_with(tmp_path, **changes):
    data = tomllib.loads(EXAMPLE_RIG.read_text())
    for d in data["devices"]:
        if d["name"] == "lamp_shutter":
            d.update(changes)
    path = tmp_path / "rig.toml"
    path.write_text(rig_to_toml(data))
    return path


def test_unknown_driver_is_one_clear_error(tmp_path, capsys):
    code = main(["validate", str(_rig_with(tmp_path, driver="nonesuch"))])
    err = capsys.readouterr().err
    assert code == 2 and "unknown driver 'nonesuch'" in err and "thorlabs_sc10" in err
    assert "Traceback" not in err


def test_wrong_role_and_unknown_option(tmp_path, capsys):
    assert main(["validate", str(_rig_with(tmp_path, driver="vici_universal"))]) == 2
    assert "serves role(s) cell_selector, not 'lamp_shutter'" in capsys.readouterr().err
    assert main(["validate", str(_rig_with(tmp_path, options={"speed": 3}))]) == 2
    assert "unknown option(s) speed for driver 'thorlabs_sc10'; allowed: none" in \
        capsys.readouterr().err


class _HalfShutter:
    name = "half"

    def identify(self) -> str:
        return "half"

    def set_open(self, open_: bool) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_driver_missing_a_protocol_method_fails_at_load_naming_it(tmp_path, capsys, monkeypatch):
    spec = DriverSpec(name="half_shutter", roles=("lamp_shutter",), capability=Shutter,
                      driver_class=_HalfShutter, transport="test", open=lambda d, c: None,
                      probe=lambda d, v: "")
    table = dict(registry.drivers())
    table["half_shutter"] = Registered(spec, "half-plugin", "x:DRIVER")
    monkeypatch.setattr(registry, "_cache", table)
    assert missing_members(_HalfShutter, Shutter) == ["is_open()"]
    assert main(["validate", str(_rig_with(tmp_path, driver="half_shutter"))]) == 2
    err = capsys.readouterr().err
    assert "does not implement Shutter: missing is_open()" in err and "half-plugin" in err


def test_composed_light_path_needs_its_roles(tmp_path, capsys):
    data = tomllib.loads(EXAMPLE_RIG.read_text())
    data["devices"] = [d for d in data["devices"] if d["role"] != "cell_selector"]
    path = tmp_path / "rig.toml"
    path.write_text(rig_to_toml(data))
    assert main(["validate", str(path)]) == 2
    assert 'optics driver "composed" needs light-path devices with role(s): cell_selector' in \
        capsys.readouterr().err


def test_seabreeze_needs_a_serial_number(tmp_path, capsys):
    data = tomllib.loads(EXAMPLE_RIG.read_text())
    for d in data["devices"]:
        if d["role"] == "spectrometer":
            d.update(driver="seabreeze", port="")
    path = tmp_path / "rig.toml"
    path.write_text(rig_to_toml(data))
    assert main(["validate", str(path)]) == 2
    assert "selects the USB spectrometer by `serial_number`" in capsys.readouterr().err


def test_registry_rejects_an_entry_point_that_is_not_a_spec(monkeypatch):
    class EP:
        name, value, dist = "bad", "bad:THING", None

        def load(self):
            return object()
    monkeypatch.setattr(registry.importlib.metadata, "entry_points", lambda group: [EP()])
    with pytest.raises(DriverError, match="is not a hardware.registry.DriverSpec"):
        registry.drivers(reload=True)
    monkeypatch.undo()
    registry.drivers(reload=True)
