"""Choose the rig for a run: the simulator by default, hardware with a rig file.

With a rig file the loop never falls back silently: a missing device stops the run with
a clear message unless the user asked for `--fallback-to-simulator`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sdl.errors import HardwareUnavailable
from sdl.schema.campaign import Campaign


def simulated_rig(campaign: Campaign) -> Any:
    from simulator.rig import SimulatedRig

    return SimulatedRig(campaign.campaign.material, campaign.seed)


def hardware_rig(rig_path: str | Path) -> Any:
    """A FlowRig over the devices of `rig_path`; raises HardwareUnavailable."""
    from sdl.schema.load import load_rig

    rig_file = load_rig(rig_path)
    try:
        from hardware.flowrig import FlowRig  # arrives with the FlowRig issue
    except ModuleNotFoundError:
        raise HardwareUnavailable(
            f"hardware support (FlowRig) is not available in this version, so the devices in "
            f"{rig_path} cannot be driven; run without --rig to use the simulator, or add "
            "--fallback-to-simulator"
        ) from None
    return FlowRig(rig_file)
