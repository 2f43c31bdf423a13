"""Condition checks shared by `outlet_state` and `SimulatedRig`: names, bounds, shells."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sdl.vocab.conditions import CONDITIONS, complete
from simulator.materials import Material


class ConditionError(ValueError):
    """A condition is unknown or out of its allowed range; names the key and the range."""


def check_conditions(conditions: Mapping[str, Any]) -> dict[str, Any]:
    """Complete `conditions` with defaults and check names, types and bounds.

    Raises:
        ConditionError: naming the key and the allowed range or choices.
    """
    try:
        c = complete(conditions)
    except KeyError:
        bad = sorted(set(conditions) - set(CONDITIONS))
        raise ConditionError(f"unknown condition(s) {bad}; allowed: "
                             f"{', '.join(sorted(CONDITIONS))}") from None
    out: dict[str, Any] = {}
    for name, spec in CONDITIONS.items():
        v = c[name]
        if spec.choices:
            if v not in spec.choices:
                raise ConditionError(f"{name}={v!r} not allowed; choose one of {list(spec.choices)}")
            out[name] = v
            continue
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ConditionError(f"{name}={v!r} is not a number; allowed "
                                 f"[{spec.low}, {spec.high}] {spec.unit}") from None
        if not math.isfinite(x) or x < spec.low or x > spec.high:
            raise ConditionError(f"{name}={v!r} out of range; allowed [{spec.low}, {spec.high}] "
                                 f"{spec.unit}".rstrip())
        out[name] = x
    return out


def resolve_shell(mat: Material, requested: str) -> str:
    """Shell preset used for `requested` on `mat`: "none" when the material has no shell
    stage (CsPbBr3), else `requested`, which must be one of the material's shells.

    Raises:
        ConditionError: a shell the material does not take (e.g. CdS on Mn:ZnSe).
    """
    real = [s for s in mat.shells if s != "none"]
    if not real:
        return "none"
    if requested not in real:
        raise ConditionError(f"shell_material={requested!r} not available for {mat.name}; "
                             f"allowed: {real}")
    return requested
