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


def hardware_rig(rig_path: str | Path, **options: Any) -> Any:
    """A FlowRig over the devices of `rig_path`, every serial device opened and asked who
    it is; raises HardwareUnavailable naming the device that cannot be opened or does not
    answer (so `--fallback-to-simulator` can take over before anything starts).

    Args:
        rig_path: rig file.
        **options: passed to `hardware.flowrig.FlowRig` (clock, sleep, poll_s, material ...).
    """
    from hardware.errors import HardwareError
    from hardware.flowrig import FlowRig
    from sdl.schema.load import load_rig
    from sdl.vocab.rig import check_rig

    rig_file = load_rig(rig_path)  # drivers checked against their capability Protocols here
    rig = FlowRig(rig_file, **options)
    check_rig(rig)
    try:
        rig.probe()
    except (HardwareError, HardwareUnavailable) as e:
        try:
            rig.close()  # release the ports that did open
        except Exception:  # noqa: BLE001 - the device is already unreachable
            pass
        if isinstance(e, HardwareUnavailable):
            raise
        raise HardwareUnavailable(
            f"device {e.device or '?'} of {rig_path} is unavailable: {e}") from None
    return rig
