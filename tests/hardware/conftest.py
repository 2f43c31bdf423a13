"""Shared fixtures: the example rig emulated in-process on a manual clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.emulators.rig_emulator import EmulatedRig
from hardware.emulators.world import ManualClock
from sdl.analysis.photon_files import write_ptu
from sdl.schema.load import load_rig

EXAMPLE_RIG = Path(__file__).resolve().parents[2] / "campaigns" / "rigs" / "example_rig.toml"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock, tmp_path):
    """EmulatedRig of the example rig on `emu://` URLs; `.urls` maps device -> URL."""
    rig = EmulatedRig(load_rig(EXAMPLE_RIG), clock=clock, seed=1, photon_folder=tmp_path / "photons",
                      photon_writer=write_ptu)
    rig.start("emu")
    # the light-path emulators power up dark (shutters closed); these tests read lamp spectra
    rig.inject("optics", "lamp")
    yield rig
    rig.stop()


@pytest.fixture
def bench_options() -> dict:
    """Keyword arguments of `make_bench` for the `bench` fixture; a test module overrides
    this fixture to change the rig (pump driver, light path)."""
    return {}


@pytest.fixture
def bench(tmp_path, bench_options):
    """A prepared FlowRig bench (tests/hardware/flowrig_fixtures.py), closed afterwards."""
    from tests.hardware.flowrig_fixtures import make_bench

    b = make_bench(tmp_path, **bench_options)
    b.rig.prepare()
    yield b
    b.close()
