"""Proposal-time safety check: reject conditions that break a rig's hard limits before
any device moves. Pure function of (conditions, limits, reactor volume)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def check_conditions(conditions: Mapping[str, Any], limits: Any, *,
                     reactor_volume_ul: float | None = None) -> list[str]:
    """Return one sentence per violated limit ([] when the conditions are safe).

    Args:
        conditions: complete conditions (see simulator.conditions).
        limits: an object with max_temperature_c, min_temperature_c, max_total_flow_ul_min
            (e.g. `sdl.schema.rig.RigLimits` or the simulator's limits).
        reactor_volume_ul: core-stage volume; with it the total flow
            Q = V / residence_time_s * 60 (uL/min) is checked against the flow limit.
    """
    problems = []
    for key in ("temperature_c", "shell_temperature_c"):
        t = conditions.get(key)
        if t is None:
            continue
        if t > limits.max_temperature_c:
            problems.append(f"{key} = {t} degC exceeds the rig limit max_temperature_c = "
                            f"{limits.max_temperature_c}")
        if t < limits.min_temperature_c:
            problems.append(f"{key} = {t} degC is below the rig limit min_temperature_c = "
                            f"{limits.min_temperature_c}")
    tau = conditions.get("residence_time_s")
    if reactor_volume_ul is not None and tau:
        q = reactor_volume_ul / float(tau) * 60.0
        if q > limits.max_total_flow_ul_min:
            problems.append(f"residence_time_s = {tau} needs a total flow of {q:.0f} uL/min, above "
                            f"the rig limit max_total_flow_ul_min = {limits.max_total_flow_ul_min}")
    return problems
