"""`SimulatedRig`: the in-process rig on the physics simulator, and `outlet_state`.

Per experiment (SIMULATOR.md): conditions -> flows (pump bias) -> RTD -> cached batch
trajectory re-weighted by E(t) -> stage 2 (shell / halide exchange / dopants) -> optics ->
spectrometer counts (+ optional single-dot photon stream) -> `RawMeasurement`.

Determinism: a run depends on (rig seed, experiment id, conditions, run index); per-run
random streams come from sha256 of (seed, experiment id, run index, stream name), never
from Python's `hash()`. Drift and fouling depend on the runs made so far.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sdl.vocab.conditions import CONDITIONS, complete
from sdl.vocab.flows import (
    FlowInfeasible,
    conditions_from_flows,
    flows_from_conditions,
    total_flow_ul_min,
)
from sdl.vocab.measurement import Failure, RawMeasurement
from simulator import optics as op
from simulator.faults import (
    EQUIPMENT_REASONS,
    UNVIABLE_REASONS,
    CampaignDrift,
    DriftState,
    clog_hazard,
    fouling_increment,
    run_rng,
)
from simulator.growth import MOLAR_TO_NM3, growth_params, outlet_distribution, simulate_batch
from simulator.materials import MATERIALS, load_material
from simulator.rtd import snapshot_weights
from simulator.spectrometer import (
    SATURATION_COUNTS,
    SpectrometerSettings,
    autoexposure,
    dark_level,
    dye_photon_rate,
    fixed_pattern,
    lamp_shape,
    measure_absorbance,
    measure_pl,
    nominal_wavelengths,
)
from simulator.stage2 import dopant_uptake, grow_shell, halide_exchange, mn_emission_per_dot

N_TANKS_SEGMENTED = 50
MIN_MEAN_DIAMETER_NM = 1.2
MIN_PARTICLE_YIELD = 0.05        # below it the spectra are flat: "no_nucleation"
TRAP_EMISSION_FRACTION = 0.005   # deep-trap band: fraction of non-radiative decays emitting
PHOTON_COLLECTION_EFFICIENCY = 0.15   # high-NA confocal HBT setup (~0.1-0.3 collection)
TEMPERATURE_JITTER_C = 0.2       # run-to-run heater control noise (rms), degC
FLOW_JITTER = 0.003              # run-to-run pump flow noise (rms, relative)


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


@dataclass(frozen=True)
class SimRigLimits:
    """Hard limits of the simulated rig (same attribute names as `RigLimits`)."""

    max_temperature_c: float = 340.0
    min_temperature_c: float = 15.0
    max_total_flow_ul_min: float = 6000.0
    max_pressure_bar: float = 10.0
    max_ramp_c_per_min: float = 20.0


@dataclass
class OutletState:
    """The sample at the flow cell, before any detector.

    Attributes:
        wavelengths_nm: (P,) wavelengths at which the optics were evaluated.
        absorbance: (P,) decadic absorbance in the flow cell (after dilution).
        pl_photon_rate: (P,) PL photons per pixel per excitation photon, divided by n^2
            (multiply by a detector scale and an integration time to get counts).
        reference_photon_rate: (P,) the same for the reference dye.
        truth: hidden ground truth (see `SimulatedRig.run`).
        metadata: optics constants the analysis needs (path length, dye, indices ...).
        sample: internal per-bin data used to draw a single dot (core radius, shell, QY).
    """

    wavelengths_nm: np.ndarray
    absorbance: np.ndarray
    pl_photon_rate: np.ndarray
    reference_photon_rate: np.ndarray
    truth: dict[str, Any]
    metadata: dict[str, Any]
    sample: dict[str, Any] = field(default_factory=dict, repr=False)


@functools.lru_cache(maxsize=64)
def _trajectory(material: str, temperature_c: float, metal_mm: float, anion: float,
                ligand: float, reactivity: float):
    m = load_material(material)
    return simulate_batch(growth_params(m, temperature_c, metal_mm, anion, ligand,
                                        reactivity=reactivity))


def _peak_and_fwhm(wl: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(peak nm, FWHM nm, FWHM meV) of a sampled band (linear interpolation at half max)."""
    if y.max() <= 0:
        return float("nan"), float("nan"), float("nan")
    i = int(np.argmax(y))
    half = 0.5 * y[i]
    j = i
    while j > 0 and y[j] > half:
        j -= 1
    k = i
    while k < y.size - 1 and y[k] > half:
        k += 1
    left = np.interp(half, [y[j], y[j + 1]], [wl[j], wl[j + 1]]) if y[j] != y[j + 1] else wl[j]
    right = np.interp(half, [y[k], y[k - 1]], [wl[k], wl[k - 1]]) if y[k] != y[k - 1] else wl[k]
    if 0 < i < y.size - 1:
        den = y[i - 1] - 2 * y[i] + y[i + 1]
        off = 0.5 * (y[i - 1] - y[i + 1]) / den if den != 0 else 0.0
        peak = wl[i] + off * (wl[i + 1] - wl[i - 1]) / 2
    else:
        peak = wl[i]
    mev = 1e3 * (op.HC_EV_NM / left - op.HC_EV_NM / right)
    return float(peak), float(right - left), float(mev)


def outlet_state(material: str, conditions: Mapping[str, Any], seed: int, *,
                 drift: DriftState | None = None, wavelengths_nm: np.ndarray | None = None,
                 shell_material: str | None = None, reactor_volume_ul: float = 500.0
                 ) -> OutletState:
    """Physics of one experiment up to the flow cell (pure function; no detector noise).

    Args:
        material: "CdSe", "CsPbBr3" or "Mn:ZnSe".
        conditions: condition mapping (defaults filled in, checked).
        seed: seeds the single dot drawn for photon statistics (`sample["dot"]`).
        drift: campaign drift (reactivity, temperature offset, pump bias); none by default.
        wavelengths_nm: (P,) where to evaluate spectra; default the nominal 1024 pixels.
        shell_material: shell preset name (default: the material's first, ZnS for CdSe).
        reactor_volume_ul: core reactor volume, uL (for flows and flow-derived truth).

    Returns:
        `OutletState` with absorbance, relative PL per pixel and the hidden truth.

    Raises:
        ConditionError: unknown condition or value out of range.
        ValueError: unknown material or shell.
    """
    if material not in MATERIALS:
        raise ValueError(f"unknown material {material!r}; allowed: {', '.join(MATERIALS)}")
    mat = load_material(material)
    c = check_conditions(conditions)
    drift = drift or DriftState()
    wl = nominal_wavelengths() if wavelengths_nm is None else np.asarray(wavelengths_nm, float)
    energy = op.HC_EV_NM / wl
    ox = mat.optics

    # ---- actual conditions in the reactor (pump bias, temperature offset)
    flows = flows_from_conditions(c, mat.flow_chemistry, reactor_volume_ul)
    if drift.pump_bias:
        flows = {k: v * drift.pump_bias.get(k, 1.0) for k, v in flows.items()}
        act = dict(c)
        act.update(conditions_from_flows(flows, mat.flow_chemistry, reactor_volume_ul))
    else:
        act = dict(c)
    t_core = c["temperature_c"] + drift.temperature_offset_c
    is_pb = mat.host_cation == "Pb"
    anion = act["br_to_pb"] if is_pb else act["se_to_cd"]
    key = (material, round(t_core, 2), round(act["metal_conc_mm"], 4), round(anion, 4),
           round(act["ligand_to_metal"], 4), round(drift.reactivity, 3))
    traj = _trajectory(*key)
    w = snapshot_weights(traj.times_s, act["residence_time_s"], c["flow_format"],
                         N_TANKS_SEGMENTED)
    dist = outlet_distribution(traj, w, mat.kinetics["growth_rate_dispersion"])
    feed_metal_molar = act["metal_conc_mm"] * 1e-3
    dil = ox["sample_dilution"]
    path = ox["path_length_cm"]

    number = dist.number
    sel = number > 1e-5 * max(number.max(), 1e-300)
    d_core = 2.0 * dist.radius_nm[sel]
    n_molar = number[sel] / MOLAR_TO_NM3                  # dots, mol/L in the reactor
    mean_d = dist.mean_diameter_nm()
    spread = dist.relative_spread()
    particle_molar = dist.particle_monomers / MOLAR_TO_NM3

    # ---- stage 2
    shell_name = shell_material or (mat.default_shell if mat.shells else "none")
    if mat.shells and shell_name not in mat.shells:
        raise ValueError(f"unknown shell {shell_name!r} for {material}; allowed: {list(mat.shells)}")
    shell_p = mat.shells.get(shell_name) if mat.shells else None
    shell = grow_shell(shell_p, shell_name, c["shell_monolayers"], c["shell_temperature_c"],
                       act["residence_time_s"], particle_molar, mean_d)
    h = shell.thickness_nm
    gap_shift = 0.0
    exch = None
    if is_pb and "exchange_k_ref_s" in ox:
        exch = halide_exchange(ox, c["exchange_halide"], c["exchange_fraction"],
                               c["shell_temperature_c"], act["residence_time_s"])
        gap_shift = exch.gap_shift_ev
    shell_shift = 0.0
    if shell_p is not None and h > 0:
        shell_shift = -1e-3 * shell_p["red_shift_max_mev"] * (1 - math.exp(-h / shell_p["red_shift_length_nm"]))

    # ---- unviable chemistry
    unviable = None
    lo_t, hi_t = mat.temperature_window_c
    phase = mat.phase
    if (dist.total <= 0 or mean_d < MIN_MEAN_DIAMETER_NM
            or particle_molar < MIN_PARTICLE_YIELD * feed_metal_molar):
        unviable = "no_nucleation"
    elif phase is not None and (anion < phase["min_br_to_pb"] or act["ligand_to_metal"] > phase["max_ligand_to_metal"] or t_core > hi_t):
        unviable = "wrong_phase"
    elif mean_d > mat.faults["bulk_like_diameter_nm"]:
        unviable = "bulk_like"
    elif exch is not None and exch.segregated_fraction > 0.3:
        unviable = "halide_segregation"

    # ---- optics per bin
    if unviable == "bulk_like":
        # no confinement: the excitonic lines smear into a bulk absorption edge and the
        # emission is weak and broad (surface/defect dominated)
        ox = dict(ox, line_hwhm_abs_mev=4.0 * ox["line_hwhm_abs_mev"],
                  homogeneous_fwhm_mev=3.0 * ox["homogeneous_fwhm_mev"],
                  qy_max=0.1 * ox["qy_max"])
    e1 = op.e1s_ev(ox, d_core, gap_shift) + shell_shift
    emis = e1 - op.stokes_ev(ox, d_core)
    if unviable == "no_nucleation" or not np.any(sel):
        absorb = np.zeros_like(wl)
        a_exc_bins = np.zeros(0)
        n_molar = np.zeros(0)
        d_core = np.zeros(0)
        e1 = emis = np.zeros(0)
    elif unviable == "wrong_phase":
        # Cs4PbBr6: strong UV band at 314 nm only; the lead ends up in the 0D phase
        pb_molar = feed_metal_molar / dil
        absorb = path * pb_molar * 3e3 * 4 * op.gaussian(energy, op.HC_EV_NM / phase["cs4pbbr6_peak_nm"], 0.25) * 0.25
        a_exc_bins = np.zeros(0)
        n_molar = np.zeros(0)
        d_core = np.zeros(0)
        e1 = emis = np.zeros(0)
    else:
        absorb = path / dil * op.ensemble_absorbance(energy, e1, d_core, n_molar, ox)
        e_exc = np.array([op.HC_EV_NM / ox["excitation_nm"]])
        a_exc_bins = path / dil * n_molar * op.absorbance_per_molar(e_exc, e1, d_core, ox)[:, 0]
    # scattering: secondary shell nuclei and bulk-like particles (Rayleigh ~ lambda^-4)
    scatter = 0.0
    if shell.secondary_monomer_molar > 0:
        scatter += 0.02 * shell.secondary_monomer_molar / 1e-3 / dil
    if unviable == "bulk_like":
        scatter += 0.05 * feed_metal_molar / 0.02
    absorb = absorb + path / 0.1 * scatter * (400.0 / wl) ** 4
    if shell_p is not None and shell.secondary_monomer_molar > 0:
        e_gap = shell_p["bandgap_ev"]
        absorb = absorb + path / dil * shell.secondary_monomer_molar * 2e3 * (
            0.5 * (1 + np.tanh((energy - e_gap - 0.3) / 0.1)))

    # ---- emission
    dop = dopant_uptake(mat.dopant, c["dopant_feed_fraction"], t_core, h)
    sites = (math.pi / 6.0) * d_core**3 / mat.molecular_volume_nm3
    lam_int = dop.interior_per_site * sites
    lam_surf = dop.surface_per_site * sites
    extra = 0.5 * lam_surf + 2.0 * shell.secondary_fraction
    qy = op.exciton_qy(ox, d_core, act["ligand_to_metal"], t_core, shell_p if h > 0 else None,
                       h, extra_traps=extra)
    qy_x = qy.qy_x
    a_exc_total_dots = float(a_exc_bins.sum()) if a_exc_bins.size else 0.0
    e_exc = op.HC_EV_NM / ox["excitation_nm"]
    scatter_exc = float(np.interp(ox["excitation_nm"], wl, absorb)) - a_exc_total_dots \
        if wl[0] <= ox["excitation_nm"] <= wl[-1] else 0.0
    a_exc_all = a_exc_total_dots + max(scatter_exc, 0.0)
    absorbed = -math.expm1(-a_exc_all * math.log(10.0)) if a_exc_all > 0 else 0.0
    share = a_exc_bins / a_exc_all if a_exc_all > 0 else np.zeros_like(a_exc_bins)
    exc_photons = absorbed * share                          # absorbed per excitation photon
    mn_ok = mat.dopant is not None and e1.size and np.all(e1 > mat.dopant["min_host_exciton_ev"])
    if mat.dopant is not None and mn_ok and dop.interior_per_site > 0:
        p_undoped = np.exp(-lam_int)
        mn_qy = mn_emission_per_dot(lam_int, mat.dopant["mn_qy_single"],
                                    mat.dopant["pair_quench_per_extra"])
        x_qy = qy_x * (p_undoped + (1 - p_undoped) * (1 - mat.dopant["transfer_efficiency"]))
    else:
        mn_qy = np.zeros_like(qy_x)
        x_qy = qy_x
        p_undoped = np.ones_like(qy_x)
    x_photons = exc_photons * x_qy
    mn_photons = exc_photons * mn_qy
    trap_photons = exc_photons * (1 - qy_x) * TRAP_EMISSION_FRACTION
    n_idx = ox["solvent_index"]
    hom = 1e-3 * ox["homogeneous_fwhm_mev"]
    seg = exch.segregated_fraction if exch is not None else 0.0
    x_main = x_photons * (1 - seg)
    pl_ex = op.spectral_photons(energy, wl, emis, hom, x_main) if x_main.size else np.zeros_like(wl)
    pl = pl_ex.copy()
    if seg > 0 and x_photons.size:
        # I-rich domains (x ~ 0.8, Hoke 2015) emit red of the mixed phase
        x_rich = 0.8
        shift_rich = x_rich * (ox["gap_i_ev"] - ox["bulk_gap_ev"]) - ox["bowing_ev"] * x_rich * (1 - x_rich)
        e_irich = op.e1s_ev(ox, d_core, shift_rich) - op.stokes_ev(ox, d_core)
        pl_ex = pl_ex + op.spectral_photons(energy, wl, e_irich, hom, x_photons * seg)
        pl = pl_ex.copy()
    if trap_photons.size:
        pl += op.spectral_photons(energy, wl, emis - 0.45, 0.35, trap_photons)
    mn_total = float(mn_photons.sum()) if mn_photons.size else 0.0
    if mn_total > 0:
        pl += op.spectral_photons(energy, wl, [op.HC_EV_NM / mat.dopant["band_center_nm"]],
                                  mat.dopant["band_fwhm_ev"], [mn_total])
    pl_rate = pl / n_idx**2
    ref_rate = dye_photon_rate(wl, ox["reference_peak_nm"], ox["reference_fwhm_nm"],
                               ox["reference_plqy"], ox["reference_absorbance"],
                               ox["reference_solvent_index"])

    # ---- truth
    x_total = float(x_photons.sum()) if x_photons.size else 0.0
    trap_total = float(trap_photons.sum()) if trap_photons.size else 0.0
    plqy = (x_total + mn_total) / absorbed if absorbed > 0 else 0.0
    pl_peak, fwhm_nm, fwhm_mev = _peak_and_fwhm(wl, pl_ex)
    nsum = float(n_molar.sum())
    if nsum > 0:
        pw = n_molar / nsum
        r_tot = 0.5 * d_core + h
        vol_tot = float(pw @ (4 / 3 * np.pi * r_tot**3))
        qyx_mean = float(pw @ qy_x)
        qy_xx = op.biexciton_qy(qyx_mean, ox["radiative_lifetime_ns"], vol_tot)
        g2_low = qy_xx / qyx_mean if qyx_mean > 0 else float("nan")
        g2_exp = op.g2_zero_pulsed(qyx_mean, qy_xx, c["excitation_mean"])
        doped = float(pw @ (1 - p_undoped))
        mn_per_dot = float(pw @ lam_int)
    else:
        vol_tot = qyx_mean = qy_xx = 0.0
        g2_low = g2_exp = float("nan")
        doped = mn_per_dot = 0.0
    truth: dict[str, Any] = {
        "material": material,
        "mean_diameter_nm": mean_d,
        "size_dispersion": spread,
        "abs_peak_nm": _first_exciton_nm(e1, n_molar, d_core, ox),
        "pl_peak_nm": pl_peak,
        "fwhm_nm": fwhm_nm,
        "fwhm_mev": fwhm_mev,
        "plqy": plqy,
        "trap_qy": trap_total / absorbed if absorbed > 0 else 0.0,
        "exciton_qy_mean": qyx_mean,
        "biexciton_qy_mean": qy_xx,
        "g2_zero_low_power": g2_low,
        "g2_zero_expected": g2_exp,
        "mean_total_volume_nm3": vol_tot,
        "mn_ratio": mn_total / x_total if x_total > 0 else (float("inf") if mn_total > 0 else 0.0),
        "mn_per_dot": mn_per_dot,
        "doped_fraction": doped,
        "yield": particle_molar / feed_metal_molar if unviable != "wrong_phase" else 0.0,
        "dot_concentration_molar": nsum,
        "shell_thickness_nm": h,
        "shell_material": shell.material,
        "shell_secondary_fraction": shell.secondary_fraction,
        "exchange_fraction_actual": exch.fraction if exch else 0.0,
        "segregated_fraction": seg,
        "talapin_k": traj.params.talapin_k,
        "nuclei_per_l": float(traj.column("nuclei_formed")[-1]) * 1e24,
        "actual_temperature_c": t_core,
        "actual_residence_time_s": act["residence_time_s"],
        "reactivity": drift.reactivity,
        "unviable": unviable,
        "absorbance_at_excitation": a_exc_all,
    }
    meta = {
        "material": material,
        "path_length_cm": path,
        "excitation_nm": ox["excitation_nm"],
        "reference_dye": ox["reference_dye"],
        "reference_plqy": ox["reference_plqy"],
        "reference_absorbance": ox["reference_absorbance"],
        "solvent_index": n_idx,
        "reference_solvent_index": ox["reference_solvent_index"],
        "feed_metal_molar": feed_metal_molar,
        "sample_dilution": dil,
        "flows_ul_min": {k: float(v) for k, v in flows_from_conditions(c, mat.flow_chemistry, reactor_volume_ul).items()},
        "temperature_c": c["temperature_c"],
        "reactor_volume_ul": reactor_volume_ul,
    }
    sample = {"radius_nm": 0.5 * d_core, "weights": n_molar, "qy_x": qy_x, "shell_nm": h,
              "radiative_lifetime_ns": ox["radiative_lifetime_ns"],
              "dlnr": float(np.log(dist.radius_nm[1] / dist.radius_nm[0])), "seed": seed}
    return OutletState(wl, absorb, pl_rate, ref_rate, truth, meta, sample)


def _first_exciton_nm(e1: np.ndarray, n_molar: np.ndarray, d: np.ndarray, ox: Mapping) -> float:
    """Wavelength of the 1S peak of the ensemble 1S band alone (noiseless), nm."""
    if n_molar.size == 0 or n_molar.sum() <= 0:
        return float("nan")
    eg = np.linspace(e1.min() - 0.3, e1.max() + 0.3, 600)
    w = 2e-3 * ox["line_hwhm_abs_mev"] / op.FWHM_PER_SIGMA
    band = ((n_molar * op.eps_1s(ox, d))[:, None] * np.exp(-0.5 * ((eg[None, :] - e1[:, None]) / w) ** 2)).sum(0)
    return float(op.HC_EV_NM / eg[int(np.argmax(band))])


class SimulatedRig:
    """In-process rig on the physics simulator (implements the `Rig` protocol structurally).

    Args:
        material: "CdSe", "CsPbBr3" or "Mn:ZnSe".
        seed: rig seed; with the experiment id and run index it fixes every random draw.
        failure_rate: probability of a random equipment failure per run (1-3 % typical).
        reactor_volume_ul: core reactor volume, uL.
        drift: campaign drift of reactivity, temperature and pumps.
        clogging: clog hazard and fouling.
        shell_material: shell preset (default: the material's first, ZnS for CdSe).
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
        try:
            from simulator.photons import (
                DetectorParams,
                Excitation,
                emitter_from_dot,
                photon_stream,
            )
        except ImportError as e:   # pragma: no cover - the module ships with the simulator
            raise RuntimeError(f"photon statistics need simulator.photons: {e}") from None
        dot = sample_dot(state, rng)
        raw.metadata["acquisition_s"] = float(c["acquisition_s"])
        if dot is None:
            raw.photon_timestamps_ps = np.zeros(0, np.int64)
            raw.photon_channels = np.zeros(0, np.uint8)
            raw.sync_period_ps = 0
            raw.truth["photon_dot"] = None
            return
        em = emitter_from_dot(dot["core_radius_nm"], dot["shell_nm"], dot["qy_x"],
                              dot["tau_x_ns"])
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


def sample_dot(state: OutletState, rng: np.random.Generator) -> dict[str, float] | None:
    """One dot drawn from the outlet distribution (number weighted), or None if none.

    The radius is spread uniformly in ln r across its bin; QY_X is that bin's mean;
    the exciton lifetime is QY_X x radiative lifetime (tau_X = QY / k_r).
    """
    w = np.asarray(state.sample.get("weights", []), dtype=np.float64)
    if w.size == 0 or w.sum() <= 0:
        return None
    i = int(rng.choice(w.size, p=w / w.sum()))
    dl = state.sample["dlnr"]
    r = float(state.sample["radius_nm"][i] * math.exp(rng.uniform(-0.5, 0.5) * dl))
    qy = float(max(state.sample["qy_x"][i], 1e-4))
    return {"core_radius_nm": r, "shell_nm": float(state.sample["shell_nm"]), "qy_x": qy,
            "tau_x_ns": qy * float(state.sample["radiative_lifetime_ns"])}


def _cal_list() -> tuple[float, float, float]:
    from simulator.spectrometer import CAL_COEFFS
    return CAL_COEFFS
