"""Choose the rig for a run: the simulator by default, hardware with a rig file.

With a rig file the loop never falls back silently: a missing device stops the run with
a clear message unless the user asked for `--fallback-to-simulator`.

This is where the layers meet: the hardware does not decode photon files (it imports no
analysis), so the rig gets its photon-file reader here.
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
    from hardware.errors import HardwareError, RigUnavailable
    from hardware.flowrig import FlowRig
    from sdl.analysis.photon_files import read_photon_file
    from sdl.schema.load import load_rig

    rig_file = load_rig(rig_path)
    options.setdefault("photon_reader", read_photon_file)
    rig = FlowRig(rig_file, **options)
    try:
        rig.probe()
    except (HardwareError, RigUnavailable) as e:
        try:
            rig.close()  # release the ports that did open
        except Exception:  # noqa: BLE001 - the device is already unreachable
            pass
        if isinstance(e, RigUnavailable):
            raise HardwareUnavailable(str(e)) from None
        raise HardwareUnavailable(
            f"device {e.device or '?'} of {rig_path} is unavailable: {e}") from None
    return rig


def device_identities(rig: Any) -> dict[str, str] | None:
    """{device name: identity (model, serial, firmware)} when the rig can tell, else None.

    Uses `rig.device_identities()` (FlowRig, after `probe()`/`prepare()`); a rig without
    it, or one that cannot tell yet, gives None (the loop asks again after `prepare()`).
    """
    fn = getattr(rig, "device_identities", None)
    if fn is None:
        return None
    try:
        ids = fn()
    except Exception:  # noqa: BLE001 - not readable yet (before prepare): asked again later
        return None
    if not ids:
        return None
    return {str(k): str(v) for k, v in dict(ids).items()}
