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
    yield rig
    rig.stop()
