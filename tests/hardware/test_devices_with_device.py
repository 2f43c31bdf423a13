"""Probe a real rig: `SDL_RIG_FILE=rig.toml pytest tests/hardware/test_devices_with_device.py`.

Skipped unless SDL_RIG_FILE names a rig file whose ports are attached. Read-only probes.
"""

from __future__ import annotations

import os

import pytest

RIG = os.environ.get("SDL_RIG_FILE")


@pytest.mark.skipif(not RIG, reason="set SDL_RIG_FILE to a rig file with real devices attached")
def test_every_device_answers():
    from sdl.commands.devices import probe
    from sdl.schema.load import load_rig

    results = [probe(d) for d in load_rig(RIG).devices]
    assert all(r["ok"] for r in results), results
