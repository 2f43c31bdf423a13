"""A lab's own device, end to end: the worked plugin in examples/acme_shutter is installed
into a temporary directory with pip (offline, no build isolation), shows up in
`sdl devices list`, passes its own conformance tests (hardware.conformance), and a rig
file that names `driver = "acme_shutter"` for its lamp shutter runs an experiment through
FlowRig against the plugin's emulator."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hardware import registry
from tests.hardware.flowrig_fixtures import LIGHT_DEVICES, conditions, make_bench

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "examples" / "acme_shutter"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "acme_shutter"  # builds write next to the source
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("*.egg-info", "build",
                                                                  "__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-index", "--no-build-isolation", "--target", str(target),
                           str(source)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (target / "acme_shutter" / "__init__.py").exists()
    return target


def _env(target: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)])}


def test_plugin_is_listed_from_its_own_package(installed):
    out = subprocess.run([sys.executable, "-m", "sdl.cli", "devices", "list", "--json"],
                         env=_env(installed), cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["acme_shutter"]["package"] == "acme-shutter"
    assert rows["acme_shutter"]["protocol"] == "Shutter"
    assert rows["thorlabs_sc10"]["package"] == "qd-sdl"


def test_plugin_passes_its_conformance_tests(installed):
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "no:randomly", str(PLUGIN / "tests")],
                         env=_env(installed), cwd=installed, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout


def test_rig_file_uses_the_plugin_driver(installed, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(installed))
    importlib.invalidate_caches()
    registry.drivers(reload=True)
    lamp = next(d for d in LIGHT_DEVICES if d["role"] == "lamp_shutter")
    monkeypatch.setitem(lamp, "driver", "acme_shutter")
    try:
        bench = make_bench(tmp_path, light="composed")
        try:
            assert type(bench.emu.devices["lamp_shutter"]).__name__ == "AcmeEmulator"
            bench.rig.prepare()
            assert bench.rig.device_identities()["lamp_shutter"] == "ACME,SH-1,0042,1.0"
            raw = bench.rig.run(conditions(), "e0001")
            assert raw.failure is None, raw.failure
            assert raw.abs_reference_counts.mean() > raw.abs_dark_counts.mean() + 100
            sent = bench.emu.devices["lamp_shutter"].command_log
            assert "OPEN" in sent and "CLOSE" in sent and "STATE?" in sent
        finally:
            bench.close()
    finally:
        monkeypatch.undo()
        importlib.invalidate_caches()
        registry.drivers(reload=True)
