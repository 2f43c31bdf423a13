"""Lab time of one flow experiment: temperature settling, flush, measurement, photons.

The one pure cost model that the simulator rig, the FlowRig plan, the batch ordering
(`surrogates.batch_order`) and the benchmarks share. It follows the FlowRig state machine
(`hardware.flowrig`: heating -> flushing -> measuring, one after the other):

    settle_s  = |dT| / ramp * 60 + stable_for          (0 when |dT| <= band: no re-settle)
                dT = the largest set-point change over the heaters (core temperature_c,
                stage-2 shell_temperature_c); ramp in degC/min.
    flush_s   = n (V_core / Q_core + V_stage2 / Q_total) * 60     (= hardware.flowplan
                .flush_seconds: n reactor volumes at the new flows; the first fill of the
                reactor at the new conditions is part of it)
    measure_s = spectrometer overhead (dark, lamp, sample, PL: `measure_overhead_s`)
    acquisition_s = photon acquisition (HBT), when the experiment records photons
    total_s   = settle_s + flush_s + measure_s + acquisition_s
    solvent_ml = Q_solvent (flush_s + measure_s + acquisition_s) / 60 / 1000
    liquid_ml  = Q_total   (flush_s + measure_s + acquisition_s) / 60 / 1000

Pumps run from the flush until the measurement ends; while the heaters settle the pumps
are stopped (FlowRig order). Only `settle_s` depends on the previous experiment, so it is
the changeover cost that ordering a batch can reduce.

Documented defaults (used by the simulator, which has no rig file; a rig file's values
override them): ramp 20 degC/min and band 1 degC (`sdl.schema.rig` defaults,
max_ramp_c_per_min / temperature_band_c), stable_for 30 s, 3 flush volumes, 500 uL core
reactor (the simulator's), no stage-2 volume, 5 s spectrometer overhead (the simulator's
device clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

#: Heater set points that must settle (condition names, degC).
HEATED = ("temperature_c", "shell_temperature_c")


@dataclass(frozen=True)
class FlowTiming:
    """Rig constants of the lab-time model (see the module docstring for defaults).

    Attributes:
        ramp_c_per_min: heater ramp rate, degC/min.
        temperature_band_c: set point reached when within this band, degC.
        stable_for_s: time within the band before the set point counts as stable, s.
        flush_volumes: reactor volumes flushed at the new flows, dimensionless.
        reactor_volume_ul: core reactor volume, uL.
        stage2_volume_ul: stage-2 reactor volume, uL.
        measure_overhead_s: spectrometer measurement time per experiment, s.
    """

    ramp_c_per_min: float = 20.0
    temperature_band_c: float = 1.0
    stable_for_s: float = 30.0
    flush_volumes: float = 3.0
    reactor_volume_ul: float = 500.0
    stage2_volume_ul: float = 0.0
    measure_overhead_s: float = 5.0

    @classmethod
    def from_rig_file(cls, rig_file: Any, measure_overhead_s: float = 5.0) -> FlowTiming:
        """Constants of a validated `sdl.schema.rig` rig file."""
        r = rig_file.reactor
        return cls(ramp_c_per_min=float(rig_file.limits.max_ramp_c_per_min),
                   temperature_band_c=float(r.temperature_band_c),
                   stable_for_s=float(r.stable_for_s), flush_volumes=float(r.flush_volumes),
                   reactor_volume_ul=float(r.volume_ul),
                   stage2_volume_ul=float(r.stage2_volume_ul),
                   measure_overhead_s=measure_overhead_s)


#: The documented defaults (the simulator's rig).
DEFAULT_TIMING = FlowTiming()


@dataclass(frozen=True)
class LabTime:
    """Lab time and liquid of one experiment (seconds, millilitres)."""

    settle_s: float
    flush_s: float
    measure_s: float
    acquisition_s: float
    solvent_ml: float
    liquid_ml: float

    @property
    def total_s(self) -> float:
        return self.settle_s + self.flush_s + self.measure_s + self.acquisition_s

    def as_dict(self) -> dict[str, float]:
        d = {k: round(v, 6) for k, v in asdict(self).items()}
        d["total_s"] = round(self.total_s, 6)
        return d


def settle_seconds(previous: Mapping[str, Any] | None, conditions: Mapping[str, Any],
                   timing: FlowTiming = DEFAULT_TIMING) -> float:
    """Heater settling time, s, from `previous` set points to those of `conditions`.

    With no previous experiment the heaters start at the first set point (a campaign's
    warm-up is not charged to any experiment). Heaters absent from either side are skipped.
    """
    if previous is None:
        return 0.0
    dt = 0.0
    for name in HEATED:
        if name in previous and name in conditions:
            dt = max(dt, abs(float(conditions[name]) - float(previous[name])))
    if dt <= timing.temperature_band_c:
        return 0.0
    return dt / timing.ramp_c_per_min * 60.0 + timing.stable_for_s


def flush_seconds(flows: Mapping[str, float], timing: FlowTiming = DEFAULT_TIMING) -> float:
    """n (V_core / Q_core + V_stage2 / Q_total) * 60 s for inlet flows in uL/min."""
    q_total = float(sum(flows.values()))
    q_core = q_total - float(flows.get("shell", 0.0)) - float(flows.get("exchange", 0.0))
    if q_core <= 0:
        return 0.0
    t = timing.reactor_volume_ul / q_core
    if q_total > 0:
        t += timing.stage2_volume_ul / q_total
    return timing.flush_volumes * t * 60.0


def lab_time(previous: Mapping[str, Any] | None, conditions: Mapping[str, Any],
             flows: Mapping[str, float], timing: FlowTiming = DEFAULT_TIMING,
             photons: bool = False) -> LabTime:
    """Lab time of the experiment at `conditions` run after `previous`.

    Args:
        previous: complete conditions of the experiment before (None: the first).
        conditions: complete conditions of this experiment (`acquisition_s` is read when
            `photons`).
        flows: inlet flows of this experiment, uL/min (`sdl.vocab.flows`).
        timing: rig constants.
        photons: the experiment records an HBT photon stream for `acquisition_s` seconds.
    """
    settle = settle_seconds(previous, conditions, timing)
    flush = flush_seconds(flows, timing)
    acq = float(conditions.get("acquisition_s", 0.0)) if photons else 0.0
    pumped_s = flush + timing.measure_overhead_s + acq
    q_total = float(sum(flows.values()))
    return LabTime(settle_s=settle, flush_s=flush, measure_s=timing.measure_overhead_s,
                   acquisition_s=acq,
                   solvent_ml=float(flows.get("solvent", 0.0)) * pumped_s / 60.0 / 1000.0,
                   liquid_ml=q_total * pumped_s / 60.0 / 1000.0)


def run_lab_time(full_conditions: list[Mapping[str, Any]], material: str,
                 timing: FlowTiming = DEFAULT_TIMING, photons: bool = False) -> tuple[float, float]:
    """(lab seconds, solvent mL) of experiments run in this order (complete conditions).

    Conditions the material's stocks cannot deliver count their settling time only.
    """
    from sdl.vocab.flows import FlowInfeasible, flow_chemistry, flows_from_conditions

    chem = flow_chemistry(material)
    total_s = solvent_ml = 0.0
    prev = None
    for c in full_conditions:
        try:
            flows = flows_from_conditions(c, chem, timing.reactor_volume_ul)
        except (FlowInfeasible, KeyError, ValueError, ZeroDivisionError):
            total_s += settle_seconds(prev, c, timing)
            prev = c
            continue
        lt = lab_time(prev, c, flows, timing, photons)
        total_s += lt.total_s
        solvent_ml += lt.solvent_ml
        prev = c
    return total_s, solvent_ml
