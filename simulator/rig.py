"""`SimulatedRig`: the in-process rig on the physics simulator.

The physics up to the flow cell is `simulator.outlet.outlet_state` (re-exported here with
`OutletState`, `sample_dot`, `check_conditions` and `ConditionError`).

Per experiment (SIMULATOR.md): conditions -> flows (pump bias) -> RTD -> cached batch
trajectory re-weighted by E(t) -> stage 2 (shell / halide exchange / dopants) -> optics ->
spectrometer counts (+ optional single-dot photon stream) -> `RawMeasurement`.

Determinism: a run depends on (rig seed, experiment id, conditions, run index); per-run
random streams come from sha256 of (seed, experiment id, run index, stream name), never
from Python's `hash()`. Drift and fouling depend on the runs made so far.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sdl.vocab.flows import FlowInfeasible, flows_from_conditions, total_flow_ul_min
from sdl.vocab.measurement import Failure, RawMeasurement
from simulator.faults import (
    EQUIPMENT_REASONS,
    UNVIABLE_REASONS,
    CampaignDrift,
    DriftState,
    clog_hazard,
    fouling_increment,
    run_rng,
)
from simulator.materials import MATERIALS, load_material
from simulator.outlet import (
    PHOTON_COLLECTION_EFFICIENCY,
    ConditionError,
    OutletState,
    check_conditions,
    outlet_state,
    resolve_shell,
    sample_dot,
)
from simulator.spectrometer import (
    SATURATION_COUNTS,
    SpectrometerSettings,
    autoexposure,
    dark_level,
    fixed_pattern,
    lamp_shape,
    measure_absorbance,
    measure_pl,
    nominal_wavelengths,
)

TEMPERATURE_JITTER_C = 0.2       # run-to-run heater control noise (rms), degC
FLOW_JITTER = 0.003              # run-to-run pump flow noise (rms, relative)

__all__ = ["ConditionError", "OutletState", "SimRigLimits", "SimulatedRig", "check_conditions",
           "outlet_state", "sample_dot"]


@dataclass(frozen=True)
class SimRigLimits:
    """Hard limits of the simulated rig (same attribute names as `RigLimits`)."""

    max_temperature_c: float = 340.0
    min_temperature_c: float = 15.0
    max_total_flow_ul_min: float = 6000.0
    max_pressure_bar: float = 10.0
    max_ramp_c_per_min: float = 20.0


class SimulatedRig:
    """In-process rig on the physics simulator (implements the `Rig` protocol structurally).

    Args:
        material: "CdSe", "CsPbBr3" or "Mn:ZnSe".
        seed: rig seed; with the experiment id and run index it fixes every random draw.
        failure_rate: probability of a random equipment failure per run (1-3 % typical).
        reactor_volume_ul: core reactor volume, uL.
        drift: campaign drift of reactivity, temperature and pumps.
        clogging: clog hazard and fouling.
        shell_material: shell preset used when a run's conditions do not name
            `shell_material` (default: the condition's default, ZnS).
        spectrometer: detector constants.
    """

    def __init__(self, material: str, seed: int, *, failure_rate: float = 0.02,
                 reactor_volume_ul: float = 500.0, drift: bool = True, clogging: bool = True,
                 shell_material: str | None = None,
                 spectrometer: SpectrometerSettings | None = None):
        if material not in MATERIALS:
            raise ValueError(f"unknown material {material!r}; allowed: {', '.join(MATERIALS)}")
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be in [0, 1], got {failure_rate}")
        if not 1.0 <= reactor_volume_ul <= 1e6:
            raise ValueError(f"reactor_volume_ul must be in [1, 1e6], got {reactor_volume_ul}")
        self.material = material
        self.seed = int(seed)
        self.failure_rate = float(failure_rate)
        self.reactor_volume_ul = float(reactor_volume_ul)
        self.clogging = clogging
        self.shell_material = shell_material
        self.settings = spectrometer or SpectrometerSettings()
        self._mat = load_material(material)
        self._drift = CampaignDrift(self.seed, enabled=drift)
        self._pattern = fixed_pattern(self.seed)
        self._lamp_nominal = lamp_shape(nominal_wavelengths())
        self.runs_made = 0
        self.fouling = 0.0
        self._clock_s = 0.0
        self._last_conditions: dict[str, Any] | None = None  # for heater settling time
        self._safe = True

    # ------------------------------------------------------------------ protocol
    def limits(self) -> SimRigLimits:
        """Hard limits (max flow: 6000 uL/min, i.e. tau >= 5 s at 500 uL)."""
        return SimRigLimits()

    def prepare(self) -> None:
        """Flush the reactor (fouling back to zero)."""
        self.flush()
        self._safe = False

    def flush(self) -> None:
        """Solvent flush: removes wall deposits (fouling -> 0)."""
        self.fouling = 0.0

    def safe_state(self) -> None:
        """Pumps stopped, heaters idle (nothing to do in simulation). Idempotent."""
        self._safe = True

    def close(self) -> None:
        """Safe state; nothing else to release."""
        self.safe_state()

    # ------------------------------------------------------------------ run
    def run(self, conditions: Mapping[str, Any], experiment_id: str, *,
            photons: bool = False) -> RawMeasurement:
        """Run one experiment; failures come back in `RawMeasurement.failure`.

        Args:
            conditions: condition mapping (defaults filled in).
            experiment_id: id from the loop; seeds this run's random streams.
            photons: also acquire a single-dot HBT photon stream (`simulator.photons`).

        Returns:
            `RawMeasurement` with counts, metadata (path length, integration times,
            excitation, reference dye, feed, saturation ...) and hidden `truth`.
        """
        k = self.runs_made
        self.runs_made += 1
        eid = str(experiment_id)
        wl = nominal_wavelengths()
        s = self.settings
        rng_fail = run_rng(self.seed, eid, k, "failure")
        rng_spec = run_rng(self.seed, eid, k, "spectrometer")
        try:
            c = check_conditions(conditions)
            if self.shell_material is not None and "shell_material" not in conditions:
                c["shell_material"] = self.shell_material
            resolve_shell(self._mat, c["shell_material"])
        except ConditionError as e:
            return self._failed(eid, dict(conditions), "rejected", "rejected:bad_condition",
                                str(e), rng_spec, k)
        try:
            flows = flows_from_conditions(c, self._mat.flow_chemistry, self.reactor_volume_ul)
        except FlowInfeasible as e:
            return self._failed(eid, c, "rejected", "rejected:flow_infeasible", str(e),
                                rng_spec, k)
        lim = self.limits()
        if total_flow_ul_min(flows) > lim.max_total_flow_ul_min:
            return self._failed(eid, c, "rejected", "rejected:flow_limit",
                                f"total flow {total_flow_ul_min(flows):.0f} uL/min exceeds "
                                f"{lim.max_total_flow_ul_min:.0f} uL/min", rng_spec, k)
        if max(c["temperature_c"], c["shell_temperature_c"]) > lim.max_temperature_c:
            return self._failed(eid, c, "rejected", "rejected:temperature_limit",
                                f"temperature above {lim.max_temperature_c} degC", rng_spec, k)
        drift = self._drift.at(k)
        log = self._device_log(c, flows)
        # equipment failure, then clogging (both drawn every run: stable streams)
        u_equip, u_which, u_clog = rng_fail.random(3)
        t_ref = self._mat.kinetics["reference_temperature_c"]
        hazard = clog_hazard(self._mat.faults, c["metal_conc_mm"],
                             c["temperature_c"] + drift.temperature_offset_c,
                             c["residence_time_s"], self.fouling, t_ref) if self.clogging else 0.0
        p_clog = -math.expm1(-hazard)
        if u_equip < self.failure_rate:
            reason, detail = EQUIPMENT_REASONS[int(u_which * len(EQUIPMENT_REASONS))]
            return self._failed(eid, c, "equipment", reason, detail, rng_spec, k, log,
                                {"clog_probability": p_clog, "fouling": self.fouling})
        if u_clog < p_clog:
            reason = "clog:fouling" if self.fouling > 0.5 else "clog:deposit"
            detail = (f"pressure rose above {lim.max_pressure_bar} bar in the core reactor "
                      f"(fouling {self.fouling:.2f}); reactor flushed")
            fouling_before = self.fouling
            self.flush()
            return self._failed(eid, c, "clog", reason, detail, rng_spec, k, log,
                                {"clog_probability": p_clog, "fouling": fouling_before})

        offset = float(rng_spec.normal(0.0, s.calibration_jitter_nm))
        # fast run-to-run process noise on top of the slow drift: heater control jitter and
        # pump flow noise (repeatability of a real rig; seeded per run)
        rng_proc = run_rng(self.seed, eid, k, "process")
        z = rng_proc.standard_normal(1 + len(drift.pump_bias))
        drift = DriftState(
            drift.reactivity, drift.temperature_offset_c + TEMPERATURE_JITTER_C * float(z[0]),
            {name: b * (1.0 + FLOW_JITTER * float(zi))
             for (name, b), zi in zip(drift.pump_bias.items(), z[1:], strict=True)})
        state = outlet_state(self.material, c, self.seed, drift=drift,
                             wavelengths_nm=wl + offset, shell_material=self.shell_material,
                             reactor_volume_ul=self.reactor_volume_ul)
        lamp = lamp_shape(wl + offset)
        a_dark, a_ref, a_samp = measure_absorbance(rng_spec, state.absorbance, lamp,
                                                   self._pattern, s)
        dark_mean = float(np.mean(dark_level(self._pattern, 0.0, s)))
        peak_rate = s.pl_counts_scale * max(float(state.pl_photon_rate.max()),
                                            float(state.reference_photon_rate.max()))
        t_pl = autoexposure(peak_rate, dark_mean, s)
        p_dark, p_samp = measure_pl(rng_spec, s.pl_counts_scale * state.pl_photon_rate, t_pl,
                                    self._pattern, s)
        _, p_ref = measure_pl(rng_spec, s.pl_counts_scale * state.reference_photon_rate, t_pl,
                              self._pattern, s)
        truth = dict(state.truth)
        truth.update({"clog_probability": p_clog, "fouling": self.fouling,
                      "wavelength_offset_nm": offset, "run_index": k,
                      "temperature_offset_c": drift.temperature_offset_c,
                      "pump_bias": dict(drift.pump_bias)})
        unviable = truth.get("unviable")
        t_ref_c = self._mat.kinetics["reference_temperature_c"]
        self.fouling += fouling_increment(self._mat.faults, c["metal_conc_mm"],
                                          c["temperature_c"], t_ref_c, unviable is not None)
        meta = dict(state.metadata)
        meta.update({"abs_integration_s": s.abs_integration_s, "pl_integration_s": t_pl,
                     "saturation_counts": SATURATION_COUNTS, "seed": self.seed,
                     "run_index": k, "wavelength_calibration": list(_cal_list()),
                     "rig": "SimulatedRig"})
        if unviable:
            truth["unviable_detail"] = UNVIABLE_REASONS[unviable]
        raw = RawMeasurement(
            experiment_id=eid, conditions=c, wavelengths_nm=wl,
            abs_dark_counts=a_dark, abs_reference_counts=a_ref, abs_sample_counts=a_samp,
            pl_dark_counts=p_dark, pl_sample_counts=p_samp, pl_reference_counts=p_ref,
            metadata=meta, device_log=log, failure=None, truth=truth)
        if photons:
            self._add_photons(raw, state, c, run_rng(self.seed, eid, k, "photons"))
        return raw

    # ------------------------------------------------------------------ helpers
    def _device_log(self, c: Mapping[str, Any], flows: Mapping[str, float]) -> list[dict]:
        from sdl.vocab.labtime import DEFAULT_TIMING, lab_time

        t0 = self._clock_s
        # heater settling + flush + measurement: the lab-time model the FlowRig plan shares
        lab = lab_time(self._last_conditions, c, flows,
                       replace(DEFAULT_TIMING, reactor_volume_ul=self.reactor_volume_ul))
        self._last_conditions = dict(c)
        log = [{"t_s": t0, "device": "heater_core", "kind": "setpoint_c", "value": c["temperature_c"]}]
        t_pumps = t0 + lab.settle_s
        for name, f in flows.items():
            log.append({"t_s": t_pumps, "device": f"pump_{name}", "kind": "rate_ul_min", "value": round(f, 4)})
        log.append({"t_s": t_pumps + lab.flush_s, "device": "spectrometer", "kind": "acquire", "value": 1})
        log.append({"t_s": t0, "device": "rig", "kind": "lab_time", "value": lab.as_dict()})
        self._clock_s = t0 + lab.total_s
        return log

    def _failed(self, eid: str, c: dict, kind: str, reason: str, detail: str,
                rng: np.random.Generator, k: int, log: list | None = None,
                extra_truth: dict | None = None) -> RawMeasurement:
        """Dark-only arrays with a Failure attached."""
        s = self.settings
        wl = nominal_wavelengths()
        dark0 = dark_level(self._pattern, s.abs_integration_s, s)
        frames = [np.clip(np.round(dark0 + rng.normal(0, s.read_noise_counts, wl.size)), 0,
                          SATURATION_COUNTS) for _ in range(6)]
        truth = {"failure_reason": reason, "run_index": k}
        truth.update(extra_truth or {})
        meta = {"material": self.material, "abs_integration_s": s.abs_integration_s,
                "pl_integration_s": s.abs_integration_s, "saturation_counts": SATURATION_COUNTS,
                "seed": self.seed, "run_index": k, "rig": "SimulatedRig"}
        return RawMeasurement(
            experiment_id=eid, conditions=c, wavelengths_nm=wl,
            abs_dark_counts=frames[0], abs_reference_counts=frames[1],
            abs_sample_counts=frames[2], pl_dark_counts=frames[3],
            pl_sample_counts=frames[4], pl_reference_counts=frames[5],
            metadata=meta, device_log=log or [], failure=Failure(kind, reason, detail),
            truth=truth)

    def _add_photons(self, raw: RawMeasurement, state: OutletState, c: Mapping[str, Any],
                     rng: np.random.Generator) -> None:
        """Draw one dot from the outlet and attach its HBT photon stream."""
        from simulator.photons import DetectorParams, Excitation, emitter_for_dot, photon_stream

        dot = sample_dot(state, rng)
        raw.metadata["acquisition_s"] = float(c["acquisition_s"])
        if dot is None:
            raw.photon_timestamps_ps = np.zeros(0, np.int64)
            raw.photon_channels = np.zeros(0, np.uint8)
            raw.sync_period_ps = 0
            raw.truth["photon_dot"] = None
            return
        em = emitter_for_dot(dot)
        exc = Excitation(mode=str(c["photon_mode"]), rep_rate_hz=float(c["rep_rate_mhz"]) * 1e6,
                         mean_excitations=float(c["excitation_mean"]))
        det = DetectorParams(collection_efficiency=PHOTON_COLLECTION_EFFICIENCY)
        ps = photon_stream(em, exc, det, float(c["acquisition_s"]),
                           int(rng.integers(0, 2**31 - 1)))
        raw.photon_timestamps_ps = ps.timestamps_ps
        raw.photon_channels = ps.channels
        raw.sync_period_ps = int(ps.sync_period_ps)
        raw.metadata["rep_rate_mhz"] = float(c["rep_rate_mhz"])
        raw.metadata["photon_mode"] = str(c["photon_mode"])
        raw.metadata["excitation_mean"] = float(c["excitation_mean"])
        raw.truth["photon_dot"] = dot
        raw.truth["g2_zero_dot_expected"] = float(ps.truth.get("g2_zero_expected", float("nan")))
        raw.truth["photon_truth"] = {k: v for k, v in ps.truth.items()
                                     if isinstance(v, (int, float, str, bool))}


def _cal_list() -> tuple[float, float, float]:
    from simulator.spectrometer import CAL_COEFFS
    return CAL_COEFFS
