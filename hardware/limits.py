"""Proposal-time safety check: reject conditions that break a rig's hard limits before
any device moves. Pure function of (conditions, limits, reactor volume)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def check_conditions(conditions: Mapping[str, Any], limits: Any, *,
                     reactor_volume_ul: float | None = None) -> list[str]:
    """Return one sentence per violated limit ([] when the conditions are safe).

    Args:
        conditions: complete conditions (see sdl.vocab.conditions).
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


def check_plan(conditions: Mapping[str, Any], rig_file: Any,
               syringe_remaining_ul: Mapping[str, float], *,
               flows_ul_min: Mapping[str, float], planned_s: float,
               ramp_c_per_min: float | None = None) -> list[str]:
    """Whole-run check before any device moves: `check_conditions` plus what only the
    plan knows. Returns one sentence per problem ([] when the run may start).

    Args:
        conditions: complete conditions.
        rig_file: `sdl.schema.rig.RigFile` (limits, reactor, pumps).
        syringe_remaining_ul: pump name -> liquid left in its syringe, uL (pumps not
            listed are taken as full: `syringe_volume_ul`).
        flows_ul_min: inlet -> planned flow, uL/min (e.g. `sdl.vocab.flows`).
        planned_s: how long the pumps will run: flush (>= flush_volumes reactor volumes)
            plus the measurement, seconds.
        ramp_c_per_min: the setpoint ramp rate the rig will program (None: not checked).

    Checks: temperature and core flow limits (`check_conditions`), total flow of all
    inlets, a pump for every inlet that must flow, syringe volume for the planned run
    (need = Q_i * planned_s / 60), and the ramp rate against max_ramp_c_per_min.
    """
    limits = rig_file.limits
    problems = check_conditions(conditions, limits, reactor_volume_ul=rig_file.reactor.volume_ul)
    total = float(sum(flows_ul_min.values()))
    if total > limits.max_total_flow_ul_min:
        problems.append(f"total flow of all inlets {total:.0f} uL/min exceeds the rig limit "
                        f"max_total_flow_ul_min = {limits.max_total_flow_ul_min}")
    pumps = {p.inlet: p for p in rig_file.pumps()}
    for inlet, q in flows_ul_min.items():
        if q <= 1e-9:
            continue
        pump = pumps.get(inlet)
        if pump is None:
            problems.append(f"inlet {inlet} must flow {q:.3g} uL/min but no pump in the rig "
                            "file feeds it")
            continue
        need = q * planned_s / 60.0
        have = float(syringe_remaining_ul.get(pump.name, pump.syringe_volume_ul))
        if need > have:
            problems.append(f"{pump.name} needs {need:.0f} uL for this run (flush and "
                            f"measurement, {planned_s:.0f} s at {q:.3g} uL/min) but only "
                            f"{have:.0f} uL remain in its syringe; refill it")
    if ramp_c_per_min is not None and ramp_c_per_min > limits.max_ramp_c_per_min:
        problems.append(f"ramp rate {ramp_c_per_min:g} degC/min exceeds the rig limit "
                        f"max_ramp_c_per_min = {limits.max_ramp_c_per_min}")
    return problems
