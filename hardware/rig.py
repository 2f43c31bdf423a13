"""The `Rig` protocol: what the campaign loop needs from a rig, simulated or real.

Implemented structurally (no shared base class) by `simulator.SimulatedRig` and
`hardware.FlowRig`. `check_rig` verifies conformance with a clear error when a rig loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from sdl.schema.rig import RigLimits
from simulator.measurement import RawMeasurement


@runtime_checkable
class Rig(Protocol):
    """A rig runs one experiment at a time.

    `run` returns a `RawMeasurement`; a failed experiment (clog, device fault, interlock)
    comes back with `failure` set rather than as an exception, so the loop can record it.
    Exceptions out of `run` mean the rig itself can no longer be trusted: the loop puts
    it in its safe state and stops.
    """

    def limits(self) -> RigLimits:
        """Hard limits the proposal-time safety check enforces."""
        ...

    def prepare(self) -> None:
        """Open connections, identify devices, prime; called once before the first run."""
        ...

    def run(self, conditions: Mapping[str, Any], experiment_id: str, *,
            photons: bool = False) -> RawMeasurement:
        """Run one experiment at `conditions` (complete, defaults filled in); record a
        photon stream too when `photons` is True (the campaign scores g2_zero)."""
        ...

    def safe_state(self) -> None:
        """Stop pumps, heater to idle. Idempotent, fast, callable from a signal handler."""
        ...

    def close(self) -> None:
        """Release ports. Calls `safe_state()` first."""
        ...


def check_rig(obj: object) -> None:
    """Raise `TypeError` naming the missing methods if `obj` does not implement `Rig`."""
    missing = [m for m in ("limits", "prepare", "run", "safe_state", "close")
               if not callable(getattr(obj, m, None))]
    if missing:
        raise TypeError(f"{type(obj).__name__} is not a Rig: missing {', '.join(missing)}")
