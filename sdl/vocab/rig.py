"""The consumer-side protocols: what the campaign loop needs from a rig (`Rig`, with its
`RigLimits`) and what a rig needs from the flow cell's light path (`LightPath`).

Implemented structurally (no shared base class): `Rig` by `simulator.SimulatedRig` and
`hardware.FlowRig`; `RigLimits` by the rig file's `sdl.schema.rig.RigLimits` and the
simulator's `SimRigLimits`; `LightPath` by `hardware.optics_path`. `check_rig` verifies
conformance with a clear error when a rig loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from sdl.vocab.measurement import RawMeasurement

#: Light modes of the flow cell: lamp (absorbance), excitation (PL), dark (shutter closed).
LIGHT_MODES = ("lamp", "excitation", "dark")
#: Cell-selector positions: reactor outlet, neat solvent (absorbance reference), dye.
CELLS = ("sample", "solvent", "reference")


@runtime_checkable
class RigLimits(Protocol):
    """Hard limits the proposal-time safety check enforces (attributes only)."""

    max_temperature_c: float
    min_temperature_c: float
    max_total_flow_ul_min: float
    max_pressure_bar: float
    max_ramp_c_per_min: float


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


@runtime_checkable
class LightPath(Protocol):
    """What illuminates the flow cell and what flows through it."""

    def set_light(self, mode: str) -> None:
        """"lamp" (absorbance), "excitation" (PL) or "dark" (shutter closed)."""
        ...

    def set_cell(self, cell: str) -> None:
        """"sample" (reactor outlet), "solvent" (absorbance reference) or "reference"
        (reference dye) in the flow cell."""
        ...

    def close(self) -> None:
        ...
