"""FlowRig's sequence of one experiment (a mixin of `FlowRig`): plan, wake the pumps,
heat, flush, measure, collect photons, stop, and assemble the `RawMeasurement`.

The state machine and the order of the steps are in `FlowRig.run`; these are the steps.
Measuring (`_measure`): solvent in the cell: dark, lamp reference; reference dye (when
the optics device declares one): excitation (reference PL for relative PLQY); sample:
lamp, dark, excitation (PL); every acquisition only through a confirmed light path.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from hardware.errors import DeviceAlarm, HardwareError
from hardware.flowplan import flush_seconds, photon_stream, plan_flows
from hardware.limits import check_plan
from hardware.rig_state import Failed
from sdl.vocab.measurement import Failure, RawMeasurement

log = logging.getLogger(__name__)


class Sequencing:
    """Mixin: needs FlowRig's devices, clock, sleep, log and the Polling mixin."""

    def _optics_metadata(self, cond: Mapping[str, Any]) -> dict[str, Any]:
        """What the analysis needs beyond the counts (`sdl.analysis.score`): the optics
        device's constants (excitation line, solvent index, dilution before the cell,
        reference dye) and the metal concentration fed (yield). Without a reference dye
        the reference keys are absent and PLQY is not scored."""
        out: dict[str, Any] = {}
        conc = cond.get("metal_conc_mm")
        if isinstance(conc, (int, float)):
            out["feed_metal_molar"] = float(conc) * 1e-3
        dev = self.devices.optics_dev
        if dev is None:
            return out
        out.update(excitation_nm=dev.excitation_nm, solvent_index=dev.solvent_index,
                   sample_dilution=dev.sample_dilution)
        if dev.reference_dye:
            out.update(reference_dye=dev.reference_dye, reference_plqy=dev.reference_plqy,
                       reference_absorbance=dev.reference_absorbance,
                       reference_solvent_index=dev.reference_solvent_index)
        else:
            out["reference_dye"] = None
        return out

    def _plan(self, cond: dict[str, Any], photons: bool) -> tuple[dict[str, float], float, list[str]]:
        from sdl.vocab.flows import FlowInfeasible

        try:
            flows = plan_flows(cond, self.rig_file, self.material)
        except FlowInfeasible as e:
            return {}, 0.0, [str(e)]
        planned_s = flush_seconds(flows, self.rig_file.reactor) + self.measure_allowance_s
        if photons and self.photon_folder is not None:
            planned_s += self.photon_timeout_s
        problems = check_plan(cond, self.rig_file, self.syringe_remaining_ul, flows_ul_min=flows,
                              planned_s=planned_s,
                              ramp_c_per_min=float(self.rig_file.limits.max_ramp_c_per_min))
        if photons and self.photon_folder is None:
            problems.append("the campaign needs photon statistics (g2) but the rig file has no "
                            "photon_timer device")
        self.log.add("rig", "plan", {"flows_ul_min": {k: round(v, 4) for k, v in flows.items()},
                                     "planned_s": round(planned_s, 3), "problems": problems})
        return flows, planned_s, problems

    def _wake_pumps(self) -> None:
        """Clear alarms left from before (watchdog after a trip, stall of the last run) and
        disarm the watchdog: each run starts from stopped, alarm-free pumps."""
        for name, pump in self.pumps.items():
            for _ in range(2):
                try:
                    pump.status()
                    break
                except DeviceAlarm as e:
                    self.log.add(name, "alarm_cleared", e.code)
                except HardwareError:
                    break  # the poll below reports it
            if pump.safe_mode:
                self._device_call(name, lambda p=pump: p.enable_watchdog(0))

    def _heat(self, cond: Mapping[str, Any]) -> None:
        targets: dict[str, float] = {}
        for dev in self.rig_file.devices:
            if dev.role == "heater":
                key = "temperature_c" if dev.stage == "core" else "shell_temperature_c"
                if cond.get(key) is not None:
                    targets[dev.name] = float(cond[key])
        for name, sp in targets.items():
            if self.setpoints_c.get(name) != sp:
                self._device_call(name, lambda h=self.heaters[name], sp=sp: h.set_comms_setpoint(sp))
                self.setpoints_c[name] = sp
            self.log.add(name, "setpoint_c", sp)
        ramp = float(self.rig_file.limits.max_ramp_c_per_min)
        snap = self._poll()
        span = max((abs(sp - snap.temperature_c.get(n, sp)) for n, sp in targets.items()), default=0.0)
        band = self.rig_file.reactor.temperature_band_c
        stable_for = self.rig_file.reactor.stable_for_s
        deadline = self.clock() + span / ramp * 60.0 + self.heat_timeout_s + stable_for
        stable_since: float | None = None
        while True:
            within = all(abs(snap.temperature_c.get(n, math.inf) - sp) <= band
                         for n, sp in targets.items())
            if within:
                stable_since = snap.t_s if stable_since is None else stable_since
                if snap.t_s - stable_since >= stable_for:
                    self.log.add("rig", "temperature_stable", {n: snap.temperature_c.get(n)
                                                               for n in targets})
                    return
            else:
                stable_since = None
            if snap.t_s > deadline:
                raise Failed(Failure("equipment", "heater:not_settled",
                                      f"temperature not within {band:g} degC of the setpoint for "
                                      f"{stable_for:g} s before the deadline"))
            self.sleep(self.poll_s)
            snap = self._poll()

    def _flush(self, flows: Mapping[str, float]) -> None:
        inlet_pump = {p.inlet: p for p in self.rig_file.pumps()}
        running = []
        for inlet, q in flows.items():
            dev = inlet_pump.get(inlet)
            if dev is None:
                continue
            pump = self.pumps[dev.name]
            if q > 1e-9:
                self._device_call(dev.name, lambda p=pump, q=q: p.set_rate(q))
                self.log.add(dev.name, "setpoint_rate_ul_min", round(q, 6))
                running.append(dev)
        for dev in running:
            pump = self.pumps[dev.name]
            self._device_call(dev.name, pump.clear_dispensed)
            if dev.safe_mode and dev.watchdog_s > 0:
                self._device_call(dev.name, lambda p=pump, s=dev.watchdog_s: p.enable_watchdog(s))
                self.log.add(dev.name, "setpoint_watchdog_s", dev.watchdog_s)
        for dev in running:
            state = self._device_call(dev.name, self.pumps[dev.name].run)
            self._pump_running[dev.name] = bool(state.moving)
            self.log.add(dev.name, "run", state.name)
        self._expected = frozenset(d.name for d in running)
        t_flush = flush_seconds(flows, self.rig_file.reactor)
        self.log.add("rig", "flush_s", round(t_flush, 3))
        end = self.clock() + t_flush
        while True:
            self._poll()
            if self.clock() >= end:
                return
            self.sleep(min(self.poll_s, max(end - self.clock(), 0.0)))

    def _measure(self, spectra: dict[str, np.ndarray], meta: dict[str, Any], photons: bool) -> None:
        spec_dev = self.devices.spec_dev
        itime_s = spec_dev.integration_time_us * 1e-6
        meta.update({"abs_integration_s": itime_s, "pl_integration_s": itime_s,
                     "scans_to_average": spec_dev.scans_to_average})
        if photons and self.photon_folder is not None:
            self.photon_folder.mark_existing_seen()
        dye = self.devices.optics_dev is not None and bool(self.devices.optics_dev.reference_dye)
        steps = (("solvent", "dark", "abs_dark_counts"), ("solvent", "lamp", "abs_reference_counts"),
                 *((("reference", "excitation", "pl_reference_counts"),) if dye else ()),
                 ("sample", "lamp", "abs_sample_counts"), ("sample", "dark", "pl_dark_counts"),
                 ("sample", "excitation", "pl_sample_counts"))
        for cell, light, key in steps:
            self._set_cell(cell)
            self._set_light(light)
            spectra[key] = self._spectrum(spec_dev.scans_to_average)
            self.log.add(spec_dev.name, "acquire", {"field": key, "cell": cell, "light": light,
                                                    "max_counts": float(spectra[key].max())})
            self._poll()
        if not dye:  # no reference dye position: no relative PLQY
            spectra["pl_reference_counts"] = spectra["pl_dark_counts"].copy()
        if any(float(v.max()) >= self.saturation_counts for v in spectra.values()):
            self.log.add(spec_dev.name, "alarm", "saturated")
        self._set_light("dark")
        if photons and self.photon_folder is not None:
            self._collect_photons(spectra, meta)

    def _collect_photons(self, spectra: dict[str, Any], meta: dict[str, Any]) -> None:
        from hardware.errors import DeviceTimeout

        self._set_light("excitation")
        name = self.photon_folder.name
        end = self.clock() + self.photon_timeout_s
        found = None
        while found is None:
            self._poll()
            try:
                found = self.photon_folder.poll()
            except HardwareError as e:
                raise Failed(Failure("device", f"photon_timer:{name}", str(e))) from None
            if found is None:
                if self.clock() >= end:
                    err = DeviceTimeout(f"no photon file within {self.photon_timeout_s:g} s",
                                        device=name)
                    self._set_light("dark")
                    raise Failed(Failure("device", f"photon_timeout:{name}", str(err)))
                self.sleep(self.poll_s)
        self._set_light("dark")
        ts, ch, sync = photon_stream(found.data)
        spectra["photon_timestamps_ps"], spectra["photon_channels"] = ts, ch
        spectra["sync_period_ps"] = sync
        span_ps = int(ts[-1] - ts[0]) if ts.size > 1 else 0
        meta["acquisition_s"] = span_ps * 1e-12
        meta["photon_file"] = found.path.name
        self.log.add(name, "photon_file", {"file": found.path.name, "photons": int(ts.size)})

    def _stop_pumps(self) -> None:
        for name in sorted(self._expected):
            pump = self.pumps[name]
            self._device_call(name, pump.stop)
            self._pump_running[name] = False
            self.log.add(name, "setpoint_rate_ul_min", 0.0)
            if pump.safe_mode:
                self._device_call(name, lambda p=pump: p.enable_watchdog(0))
        self._expected = frozenset()

    def _read_dispensed(self, quiet: bool = False) -> None:
        """Subtract what each pump infused from its syringe's remaining volume."""
        for dev in self.rig_file.pumps():
            try:
                d = self.pumps[dev.name].dispensed()
                self.pumps[dev.name].clear_dispensed()
            except HardwareError as e:
                if not quiet:
                    log.warning("%s: dispensed volume unknown: %s", dev.name, e)
                continue
            left = self.syringe_remaining_ul[dev.name] - d.infused_ul
            self.syringe_remaining_ul[dev.name] = left
            if d.infused_ul > 0:
                self.log.add(dev.name, "dispensed_ul", round(d.infused_ul, 4))

    def _measurement(self, eid: str, cond: dict[str, Any], spectra: dict[str, Any],
                     meta: dict[str, Any], failure: Failure | None) -> RawMeasurement:
        wl = self.wavelengths_nm if self.wavelengths_nm is not None else np.linspace(350, 800, 1024)
        zero = np.zeros(len(wl))
        fields = {k: np.asarray(spectra.get(k, zero), dtype=np.float64)
                  for k in RawMeasurement.SPECTRUM_FIELDS if k != "wavelengths_nm"}
        meta["syringe_remaining_ul"] = {k: round(v, 3) for k, v in self.syringe_remaining_ul.items()}
        raw = RawMeasurement(experiment_id=eid, conditions=cond,
                             wavelengths_nm=np.asarray(wl, dtype=np.float64), metadata=meta,
                             device_log=self.log.take(), failure=failure, **fields)
        if failure is None and "photon_timestamps_ps" in spectra:
            raw.photon_timestamps_ps = spectra["photon_timestamps_ps"]
            raw.photon_channels = spectra["photon_channels"]
            raw.sync_period_ps = spectra["sync_period_ps"]
        return raw

