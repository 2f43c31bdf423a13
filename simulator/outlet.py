"""`outlet_state`: the physics of one experiment up to the flow cell, as stage functions.

Stages (SIMULATOR.md pipeline): reactor conditions (pump bias, temperature offset) ->
core growth (cached batch trajectory re-weighted by E(t)) -> stage 2 (shell, halide
exchange) -> unviable-chemistry check -> absorption -> emission (PLQY, dopant, trap band)
-> single-dot photon statistics -> truth. Each stage is a plain function of the previous
stages' results; `outlet_state` only chains them.

Calibration notes (what was fitted to what; the checks are in tests/simulator/):
* growth: see `simulator.growth.CALIBRATION_NOTES`.
* ensemble PLQY (`optics.exciton_qy`): `surface_capture_5nm` = 4.5 with ligand coverage
  theta = 0.97 L/(L + 1) was fitted so that a ~5.3 nm CdSe core with oleate only
  (ligand:metal 2, the Cd(oleate)2 stoichiometry) gives PLQY 0.1-0.3 and the best ligand
  ratio of the cdse_620nm box (10) gives 0.5-0.8 (Talapin et al., Nano Lett. 1, 207 (2001);
  Qu & Peng, JACS 124, 2049 (2002)). The ligand also raises Talapin's K (broader lines),
  the trade-off the optimiser meets.
* ZnS strain (`strain_traps_max` 1.0, onset 0.4 nm, length 0.6 nm) fitted to Dabbousi et
  al., J. Phys. Chem. B 101, 9463 (1997): peak near 1.3-1.6 ML, >= half the peak at 3-4 ML.
* single dot: radiative lifetime 20 ns and qy_max 0.95 give on-state CdSe lifetimes of
  ~19 ns (15-25 ns observed); Auger 1 ps/nm^3 (Klimov 2000); the ZnS Auger slowdown length
  0.3 nm was fitted so that the SIMULATOR.md reference dot (4.6 nm core + 0.7 nm ZnS)
  has g2(0) ~0.08 (0.05-0.15); CdS 0.5 nm gives QY_XX -> 0.7-0.9 for 5-6 nm giant shells
  (Park et al., PRL 106, 187401 (2011)).
* shell red shift: van Embden 2009 fractions (CdS 0.55, ZnS 0.1), not fitted.
* CdSe Stokes shift 10 + 197.8 / D^1.5 meV, fitted to 60-80 meV at 2-2.5 nm (Kuno 1997)
  and <= 30 meV from 5 nm up (DOMAIN s5); 3 nm gets 48 meV.
* CsPbBr3: see `simulator.growth.CALIBRATION_NOTES` (size vs temperature); single-dot width
  85 meV fitted to ensemble FWHM 18-25 nm; Auger 0.05 ps/nm^3 of the cube volume.
* Mn:ZnSe: dopants per dot set at nucleation (Pradhan 2005), not by the final size, so
  host PL stays red of host absorption; Mn lifetime 0.3 ms (Pradhan & Peng 2007), truth
  key `mn_lifetime_ms`, measurable with `photons.dopant_emitter` + `sdl.analysis.lifetime`.
* count_rate_kcps (truth): collection 0.15 x SPAD 0.6, blinking on fraction 0.5 (off state
  brightened by thick shells), 2 x 100 Hz dark counts; not fitted.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sdl.vocab.flows import conditions_from_flows, flows_from_conditions
from simulator import dot as dotphys
from simulator import optics as op
from simulator.checks import ConditionError, check_conditions, resolve_shell
from simulator.dot import PHOTON_COLLECTION_EFFICIENCY
from simulator.faults import DriftState
from simulator.growth import MOLAR_TO_NM3, growth_params, outlet_distribution, simulate_batch
from simulator.materials import MATERIALS, Material, load_material
from simulator.rtd import snapshot_weights
from simulator.spectrometer import dye_photon_rate, nominal_wavelengths
from simulator.stage2 import dopant_uptake, grow_shell, halide_exchange, mn_emission_per_dot

__all__ = ["PHOTON_COLLECTION_EFFICIENCY", "ConditionError", "OutletState", "check_conditions",
           "outlet_state", "resolve_shell", "sample_dot"]

N_TANKS_SEGMENTED = 50
MIN_MEAN_DIAMETER_NM = 1.2
MIN_PARTICLE_YIELD = 0.05        # below it the spectra are flat: "no_nucleation"
TRAP_EMISSION_FRACTION = 0.005   # deep-trap band: fraction of non-radiative decays emitting


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


def _first_exciton_nm(e1: np.ndarray, n_molar: np.ndarray, d: np.ndarray, ox: Mapping) -> float:
    """Wavelength of the 1S peak of the ensemble 1S band alone (noiseless), nm."""
    if n_molar.size == 0 or n_molar.sum() <= 0:
        return float("nan")
    eg = np.linspace(e1.min() - 0.3, e1.max() + 0.3, 600)
    w = 2e-3 * ox["line_hwhm_abs_mev"] / op.FWHM_PER_SIGMA
    band = ((n_molar * op.eps_1s(ox, d))[:, None] * np.exp(-0.5 * ((eg[None, :] - e1[:, None]) / w) ** 2)).sum(0)
    return float(op.HC_EV_NM / eg[int(np.argmax(band))])


# ----------------------------------------------------------------------------- stages
def reactor_conditions(mat: Material, c: Mapping[str, Any], drift: DriftState,
                       reactor_volume_ul: float) -> tuple[dict[str, Any], float]:
    """Conditions the reactor really sees (pump bias) and the core temperature (offset)."""
    act = dict(c)
    if drift.pump_bias:
        flows = flows_from_conditions(c, mat.flow_chemistry, reactor_volume_ul)
        flows = {k: v * drift.pump_bias.get(k, 1.0) for k, v in flows.items()}
        act.update(conditions_from_flows(flows, mat.flow_chemistry, reactor_volume_ul))
    return act, c["temperature_c"] + drift.temperature_offset_c


@dataclass
class CoreStage:
    """Outlet of the core reactor: the number-weighted size distribution per bin."""

    traj: Any
    dist: Any
    d_core: np.ndarray           # (n,) diameters (or cube edges), nm
    n_molar: np.ndarray          # (n,) dots per bin, mol/L in the reactor
    mean_d: float
    spread: float
    particle_molar: float        # formula units in particles, mol/L
    anion: float


def core_stage(material: str, mat: Material, act: Mapping[str, Any], t_core: float,
               flow_format: str, drift: DriftState) -> CoreStage:
    """Batch trajectory (cached per T and concentrations) weighted by the RTD E(t)."""
    anion = act["br_to_pb"] if mat.host_cation == "Pb" else act["se_to_cd"]
    key = (material, round(t_core, 2), round(act["metal_conc_mm"], 4), round(anion, 4),
           round(act["ligand_to_metal"], 4), round(drift.reactivity, 3))
    traj = _trajectory(*key)
    w = snapshot_weights(traj.times_s, act["residence_time_s"], flow_format, N_TANKS_SEGMENTED)
    dist = outlet_distribution(traj, w, mat.kinetics["growth_rate_dispersion"])
    number = dist.number
    sel = number > 1e-5 * max(number.max(), 1e-300)
    return CoreStage(traj, dist, 2.0 * dist.radius_nm[sel], number[sel] / MOLAR_TO_NM3,
                     dist.mean_diameter_nm(), dist.relative_spread(),
                     dist.particle_monomers / MOLAR_TO_NM3, anion)


def stage2(mat: Material, c: Mapping[str, Any], act: Mapping[str, Any], shell_name: str,
           core: CoreStage):
    """Shell growth and halide exchange: (ShellResult, shell preset or None, exchange or None)."""
    shell_p = mat.shells.get(shell_name) if mat.shells else None
    shell = grow_shell(shell_p, shell_name, c["shell_monolayers"], c["shell_temperature_c"],
                       act["residence_time_s"], core.particle_molar, core.mean_d)
    exch = None
    if mat.host_cation == "Pb" and "exchange_k_ref_s" in mat.optics:
        exch = halide_exchange(mat.optics, c["exchange_halide"], c["exchange_fraction"],
                               c["shell_temperature_c"], act["residence_time_s"])
    return shell, shell_p, exch


def unviable_reason(mat: Material, core: CoreStage, act: Mapping[str, Any], t_core: float,
                    exch) -> str | None:
    """Reason code of unviable chemistry (`faults.UNVIABLE_REASONS`), or None."""
    feed = act["metal_conc_mm"] * 1e-3
    phase = mat.phase
    if (core.dist.total <= 0 or core.mean_d < MIN_MEAN_DIAMETER_NM
            or core.particle_molar < MIN_PARTICLE_YIELD * feed):
        return "no_nucleation"
    if phase is not None and (core.anion < phase["min_br_to_pb"]
                              or act["ligand_to_metal"] > phase["max_ligand_to_metal"]
                              or t_core > mat.temperature_window_c[1]):
        return "wrong_phase"
    if core.mean_d > mat.faults["bulk_like_diameter_nm"]:
        return "bulk_like"
    if exch is not None and exch.segregated_fraction > 0.3:
        return "halide_segregation"
    return None


@dataclass
class Absorption:
    """Absorbance spectrum and what the emission stage needs from it."""

    absorb: np.ndarray           # (P,) decadic absorbance in the cell
    a_exc_bins: np.ndarray       # (n,) absorbance of each bin at the excitation wavelength
    d_core: np.ndarray
    n_molar: np.ndarray
    e1: np.ndarray               # (n,) 1S energies after the shell red shift, eV
    emis: np.ndarray             # (n,) exciton emission energies, eV
    ox: Mapping[str, Any]        # optics constants (bulk-like: smeared)


def absorption(mat: Material, core: CoreStage, shell, shell_p, exch, unviable: str | None,
               energy: np.ndarray, wl: np.ndarray, feed_metal_molar: float) -> Absorption:
    """1S energies (shell red shift bounded by the confinement energy), absorbance, scattering."""
    ox = mat.optics
    if unviable == "bulk_like":
        # no confinement: the excitonic lines smear into a bulk absorption edge and the
        # emission is weak and broad (surface/defect dominated)
        ox = dict(ox, line_hwhm_abs_mev=4.0 * ox["line_hwhm_abs_mev"],
                  homogeneous_fwhm_mev=3.0 * ox["homogeneous_fwhm_mev"],
                  qy_max=0.03 * ox["qy_max"])
    dil, path = ox["sample_dilution"], ox["path_length_cm"]
    gap_shift = exch.gap_shift_ev if exch is not None else 0.0
    d_core, n_molar = core.d_core, core.n_molar
    e1 = op.e1s_ev(ox, d_core, gap_shift)
    e1 = e1 - op.shell_red_shift_ev(e1, ox["bulk_gap_ev"] + gap_shift,
                                    shell_p if shell.thickness_nm > 0 else None,
                                    shell.thickness_nm)
    # emission never below the bulk gap (host PL at most the bulk edge)
    emis = np.maximum(e1 - op.stokes_ev(ox, d_core), ox["bulk_gap_ev"] + gap_shift)
    empty = np.zeros(0)
    if unviable == "no_nucleation" or d_core.size == 0:
        absorb, a_exc, d_core, n_molar, e1, emis = np.zeros_like(wl), empty, empty, empty, empty, empty
    elif unviable == "wrong_phase":
        # Cs4PbBr6: strong UV band at 314 nm only; the lead ends up in the 0D phase
        absorb = path * feed_metal_molar / dil * 3e3 * 4 * op.gaussian(
            energy, op.HC_EV_NM / mat.phase["cs4pbbr6_peak_nm"], 0.25) * 0.25
        a_exc, d_core, n_molar, e1, emis = empty, empty, empty, empty, empty
    else:
        absorb = path / dil * op.ensemble_absorbance(energy, e1, d_core, n_molar, ox)
        e_exc = np.array([op.HC_EV_NM / ox["excitation_nm"]])
        a_exc = path / dil * n_molar * op.absorbance_per_molar(e_exc, e1, d_core, ox)[:, 0]
    # scattering: secondary shell nuclei and bulk-like particles (Rayleigh ~ lambda^-4)
    scatter = 0.0
    if shell.secondary_monomer_molar > 0:
        scatter += 0.02 * shell.secondary_monomer_molar / 1e-3 / dil
    if unviable == "bulk_like":
        scatter += 0.05 * feed_metal_molar / 0.02
    absorb = absorb + path / 0.1 * scatter * (400.0 / wl) ** 4
    if shell_p is not None and shell.secondary_monomer_molar > 0:
        absorb = absorb + path / dil * shell.secondary_monomer_molar * 2e3 * (
            0.5 * (1 + np.tanh((energy - shell_p["bandgap_ev"] - 0.3) / 0.1)))
    return Absorption(absorb, a_exc, d_core, n_molar, e1, emis, ox)


@dataclass
class Emission:
    """PL spectrum and the photon budget per excitation photon."""

    pl: np.ndarray               # (P,) all bands, photons per pixel per excitation photon
    pl_exciton: np.ndarray       # (P,) exciton band only
    absorbed: float              # fraction of excitation photons absorbed
    a_exc_all: float
    x_total: float
    mn_total: float
    trap_total: float
    qy: op.QYModel
    lam_int: np.ndarray
    p_undoped: np.ndarray
    seg: float


def emission(mat: Material, ab: Absorption, c: Mapping[str, Any], act: Mapping[str, Any],
             t_core: float, shell, shell_p, exch, energy: np.ndarray, wl: np.ndarray) -> Emission:
    """Ensemble QY per bin, energy transfer to Mn, trap band, segregated domains -> PL."""
    ox = ab.ox
    h = shell.thickness_nm
    dop = dopant_uptake(mat.dopant, c["dopant_feed_fraction"], t_core, h)
    # nucleation doping (Pradhan et al., JACS 127, 17586 (2005)): the Mn is taken up with the
    # nucleus, so the dopants per dot do not depend on the final size; the mean is set by
    # the cation sites of a dot of the mean size. Surface Mn quench like surface traps:
    # density per area x the exciton's surface probability density ~ 1/D (`optics.exciton_qy`).
    d_mean = float(ab.n_molar @ ab.d_core / ab.n_molar.sum()) if ab.n_molar.size else 1.0
    sites_mean = float(dotphys.volume_nm3(d_mean, ox["shape"])) / mat.molecular_volume_nm3
    lam_int = np.full(ab.d_core.shape, dop.interior_per_site * sites_mean)
    extra = (0.5 * dop.surface_per_site * sites_mean * d_mean / np.maximum(ab.d_core, 1e-3)
             + 2.0 * shell.secondary_fraction)
    qy = op.exciton_qy(ox, ab.d_core, act["ligand_to_metal"], t_core,
                       shell_p if h > 0 else None, h, extra_traps=extra)
    qy_x = qy.qy_x
    a_dots = float(ab.a_exc_bins.sum()) if ab.a_exc_bins.size else 0.0
    scatter_exc = float(np.interp(ox["excitation_nm"], wl, ab.absorb)) - a_dots \
        if wl[0] <= ox["excitation_nm"] <= wl[-1] else 0.0
    a_all = a_dots + max(scatter_exc, 0.0)
    absorbed = -math.expm1(-a_all * math.log(10.0)) if a_all > 0 else 0.0
    share = ab.a_exc_bins / a_all if a_all > 0 else np.zeros_like(ab.a_exc_bins)
    exc_photons = absorbed * share
    mn_ok = mat.dopant is not None and ab.e1.size and np.all(ab.e1 > mat.dopant["min_host_exciton_ev"])
    if mn_ok and dop.interior_per_site > 0:
        p_undoped = np.exp(-lam_int)
        mn_qy = mn_emission_per_dot(lam_int, mat.dopant["mn_qy_single"],
                                    mat.dopant["pair_quench_per_extra"])
        x_qy = qy_x * (p_undoped + (1 - p_undoped) * (1 - mat.dopant["transfer_efficiency"]))
    else:
        mn_qy, x_qy, p_undoped = np.zeros_like(qy_x), qy_x, np.ones_like(qy_x)
    x_photons = exc_photons * x_qy
    mn_photons = exc_photons * mn_qy
    trap_photons = exc_photons * (1 - qy_x) * TRAP_EMISSION_FRACTION
    hom = 1e-3 * ox["homogeneous_fwhm_mev"]
    seg = exch.segregated_fraction if exch is not None else 0.0
    x_main = x_photons * (1 - seg)
    pl_ex = op.spectral_photons(energy, wl, ab.emis, hom, x_main) if x_main.size else np.zeros_like(wl)
    if seg > 0 and x_photons.size:
        # I-rich domains (x ~ 0.8, Hoke 2015) emit red of the mixed phase
        x_rich = 0.8
        shift_rich = x_rich * (ox["gap_i_ev"] - ox["bulk_gap_ev"]) - ox["bowing_ev"] * x_rich * (1 - x_rich)
        e_irich = op.e1s_ev(ox, ab.d_core, shift_rich) - op.stokes_ev(ox, ab.d_core)
        pl_ex = pl_ex + op.spectral_photons(energy, wl, e_irich, hom, x_photons * seg)
    pl = pl_ex.copy()
    if trap_photons.size:
        pl += op.spectral_photons(energy, wl, ab.emis - 0.45, 0.35, trap_photons)
    mn_total = float(mn_photons.sum()) if mn_photons.size else 0.0
    if mn_total > 0:
        pl += op.spectral_photons(energy, wl, [op.HC_EV_NM / mat.dopant["band_center_nm"]],
                                  mat.dopant["band_fwhm_ev"], [mn_total])
    return Emission(pl, pl_ex, absorbed, a_all, float(x_photons.sum()) if x_photons.size else 0.0,
                    mn_total, float(trap_photons.sum()) if trap_photons.size else 0.0,
                    qy, lam_int, p_undoped, seg)


# ----------------------------------------------------------------------------- chain
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
        shell_material: shell preset used when `conditions` does not name `shell_material`
            (a rig-level default); the condition wins when given.
        reactor_volume_ul: core reactor volume, uL (for flows and flow-derived truth).

    Returns:
        `OutletState` with absorbance, relative PL per pixel and the hidden truth.

    Raises:
        ConditionError: unknown condition, value out of range, or a shell the material
            does not take.
        ValueError: unknown material.
    """
    if material not in MATERIALS:
        raise ValueError(f"unknown material {material!r}; allowed: {', '.join(MATERIALS)}")
    mat = load_material(material)
    c = check_conditions(conditions)
    if shell_material is not None and "shell_material" not in conditions:
        c["shell_material"] = shell_material
    shell_name = resolve_shell(mat, c["shell_material"])
    drift = drift or DriftState()
    wl = nominal_wavelengths() if wavelengths_nm is None else np.asarray(wavelengths_nm, float)
    energy = op.HC_EV_NM / wl

    act, t_core = reactor_conditions(mat, c, drift, reactor_volume_ul)
    core = core_stage(material, mat, act, t_core, c["flow_format"], drift)
    shell, shell_p, exch = stage2(mat, c, act, shell_name, core)
    h = shell.thickness_nm
    unviable = unviable_reason(mat, core, act, t_core, exch)
    feed_metal_molar = act["metal_conc_mm"] * 1e-3
    ab = absorption(mat, core, shell, shell_p, exch, unviable, energy, wl, feed_metal_molar)
    em = emission(mat, ab, c, act, t_core, shell, shell_p, exch, energy, wl)
    ox = ab.ox
    pl_rate = em.pl / ox["solvent_index"] ** 2
    ref_rate = dye_photon_rate(wl, ox["reference_peak_nm"], ox["reference_fwhm_nm"],
                               ox["reference_plqy"], ox["reference_absorbance"],
                               ox["reference_solvent_index"])
    single = dotphys.single_dot_stats(ox, ab.d_core, ab.n_molar, em.qy.qy_on, c,
                                      shell_p if h > 0 else None, h)
    truth = _truth(material, mat, core, ab, em, single, shell, exch, act, t_core, drift,
                   unviable, wl, feed_metal_molar)
    meta = {
        "material": material,
        "path_length_cm": ox["path_length_cm"],
        "excitation_nm": ox["excitation_nm"],
        "reference_dye": ox["reference_dye"],
        "reference_plqy": ox["reference_plqy"],
        "reference_absorbance": ox["reference_absorbance"],
        "solvent_index": ox["solvent_index"],
        "reference_solvent_index": ox["reference_solvent_index"],
        "feed_metal_molar": feed_metal_molar,
        "sample_dilution": ox["sample_dilution"],
        "flows_ul_min": {k: float(v) for k, v in flows_from_conditions(c, mat.flow_chemistry, reactor_volume_ul).items()},
        "temperature_c": c["temperature_c"],
        "reactor_volume_ul": reactor_volume_ul,
    }
    sample = {"radius_nm": 0.5 * ab.d_core, "weights": ab.n_molar, "qy_x": em.qy.qy_x,
              "qy_on": em.qy.qy_on, "shell_nm": h,
              "radiative_lifetime_ns": ox["radiative_lifetime_ns"],
              "dlnr": float(np.log(core.dist.radius_nm[1] / core.dist.radius_nm[0])), "seed": seed,
              "auger_ps_per_nm3": float(ox["auger_ps_per_nm3"]), "shape": str(ox["shape"]),
              "nr_xx_scaling": float(ox["biexciton_nr_scaling"]),
              "auger_slowdown_length_nm": (float(shell_p["auger_slowdown_length_nm"])
                                           if shell_p is not None and h > 0 else 0.0),
              "off_eta_scale": single["off_state_brightness"]}
    return OutletState(wl, ab.absorb, pl_rate, ref_rate, truth, meta, sample)


def _truth(material: str, mat: Material, core: CoreStage, ab: Absorption, em: Emission,
           single: dict[str, Any], shell, exch, act, t_core: float, drift: DriftState,
           unviable: str | None, wl: np.ndarray, feed_metal_molar: float) -> dict[str, Any]:
    """The hidden ground truth of one experiment (keys kept stable for `sdl simulate --json`)."""
    pl_peak, fwhm_nm, fwhm_mev = _peak_and_fwhm(wl, em.pl_exciton)
    nsum = float(ab.n_molar.sum()) if ab.n_molar.size else 0.0
    pw = ab.n_molar / nsum if nsum > 0 else ab.n_molar
    absorbed = em.absorbed
    x_total, mn_total = em.x_total, em.mn_total
    truth: dict[str, Any] = {
        "material": material,
        "mean_diameter_nm": core.mean_d,
        "size_dispersion": core.spread,
        "abs_peak_nm": _first_exciton_nm(ab.e1, ab.n_molar, ab.d_core, ab.ox),
        "pl_peak_nm": pl_peak,
        "fwhm_nm": fwhm_nm,
        "fwhm_mev": fwhm_mev,
        "plqy": (x_total + mn_total) / absorbed if absorbed > 0 else 0.0,
        "trap_qy": em.trap_total / absorbed if absorbed > 0 else 0.0,
        "exciton_qy_mean": float(pw @ em.qy.qy_x) if nsum > 0 else 0.0,
        "biexciton_qy_mean": single["biexciton_qy_mean"],
        "g2_zero_low_power": single["g2_zero_low_power"],
        "g2_zero_expected": single["g2_zero_expected"],
        "mean_total_volume_nm3": single["mean_total_volume_nm3"],
        "count_rate_kcps": single["count_rate_kcps"],
        "exciton_qy_on": single["exciton_qy_on"],
        "exciton_lifetime_ns": single["exciton_lifetime_ns"],
        "auger_time_ns": single["auger_time_ns"],
        "off_state_brightness": single["off_state_brightness"],
        "mn_ratio": mn_total / x_total if x_total > 0 else (float("inf") if mn_total > 0 else 0.0),
        "mn_per_dot": float(pw @ em.lam_int) if nsum > 0 else 0.0,
        "doped_fraction": float(pw @ (1 - em.p_undoped)) if nsum > 0 else 0.0,
        "mn_lifetime_ms": float(mat.dopant["mn_lifetime_ms"]) if mat.dopant is not None else None,
        "yield": core.particle_molar / feed_metal_molar if unviable != "wrong_phase" else 0.0,
        "dot_concentration_molar": nsum,
        "shell_thickness_nm": shell.thickness_nm,
        "shell_material": shell.material,
        "shell_secondary_fraction": shell.secondary_fraction,
        "exchange_fraction_actual": exch.fraction if exch else 0.0,
        "segregated_fraction": em.seg,
        "talapin_k": core.traj.params.talapin_k,
        "nuclei_per_l": float(core.traj.column("nuclei_formed")[-1]) * 1e24,
        "actual_temperature_c": t_core,
        "actual_residence_time_s": act["residence_time_s"],
        "reactivity": drift.reactivity,
        "unviable": unviable,
        "absorbance_at_excitation": em.a_exc_all,
    }
    return truth


def sample_dot(state: OutletState, rng: np.random.Generator) -> dict[str, Any] | None:
    """One on-state dot drawn from the outlet distribution (number weighted), or None.

    The radius is spread uniformly in ln r across its bin; qy_x is the on-state QY_X
    (dynamic channels only) and tau_x_ns = qy_x x radiative lifetime = 1 / (k_r + k_nr,X).
    The remaining keys feed `simulator.photons.emitter_for_dot` (Auger scaling, shape,
    k_nr,XX scaling, shell slowdown, off-state brightness).
    """
    w = np.asarray(state.sample.get("weights", []), dtype=np.float64)
    if w.size == 0 or w.sum() <= 0:
        return None
    i = int(rng.choice(w.size, p=w / w.sum()))
    dl = state.sample["dlnr"]
    r = float(state.sample["radius_nm"][i] * math.exp(rng.uniform(-0.5, 0.5) * dl))
    s = state.sample
    qy = float(max(s.get("qy_on", s["qy_x"][i]), 1e-4))
    return {"core_radius_nm": r, "shell_nm": float(s["shell_nm"]), "qy_x": qy,
            "tau_x_ns": qy * float(s["radiative_lifetime_ns"]),
            "auger_ps_per_nm3": float(s.get("auger_ps_per_nm3", 1.0)),
            "shape": str(s.get("shape", "sphere")),
            "nr_xx_scaling": float(s.get("nr_xx_scaling", 4.0)),
            "auger_slowdown_length_nm": float(s.get("auger_slowdown_length_nm", 0.0)),
            "off_eta_scale": float(s.get("off_eta_scale", 0.0))}
