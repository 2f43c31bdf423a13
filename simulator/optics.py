"""Size -> optics: sizing curves, absorbance and PL spectra, PLQY and g2 expectations.

Sources: Yu, Qu, Guo, Peng, Chem. Mater. 15, 2854 (2003) (CdSe sizing and eps_1S);
Protesescu et al., Nano Lett. 15, 3692 (2015) and Brennan et al., JACS 139, 12201 (2017)
(CsPbBr3 size and Stokes shift); Kagan et al., Chem. Rev. 121, 3186 (2021) (homogeneous
width 50-60 meV, PLQY ranges); Nair, Zhao, Bawendi, Nano Lett. 11, 1136 (2011)
(g2(0) ~ QY_XX / QY_X, k_rXX ~ 4 k_rX); DOMAIN.md s4-s7.

Spectra are sums over the radius bins of the outlet distribution; lines are Gaussian in
energy, so an ensemble of Gaussian size spread has FWHM^2 = FWHM_hom^2 + (2.355 |dE/dD|
sigma_D)^2 (DOMAIN s5), the law the tests check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numba import njit

from simulator import dot

HC_EV_NM = 1239.841984
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
AUGER_PS_PER_NM3 = 1.0       # CdSe Auger time ~1 ps per nm^3 (Klimov 2000); presets carry their own


# ---------------------------------------------------------------- sizing curves
def yu2003_cdse_diameter_nm(wavelength_nm):
    """Yu et al. 2003: D = 1.6122e-9 l^4 - 2.6575e-6 l^3 + 1.6242e-3 l^2 - 0.4277 l + 41.57."""
    lam = np.asarray(wavelength_nm, dtype=np.float64)
    return 1.6122e-9 * lam**4 - 2.6575e-6 * lam**3 + 1.6242e-3 * lam**2 - 0.4277 * lam + 41.57


_YU_LAM = np.linspace(460.0, 670.0, 1051)     # monotonic part of the Yu polynomial
_YU_D = yu2003_cdse_diameter_nm(_YU_LAM)


def _yu_energy(d_nm: np.ndarray, bulk_gap_ev: float) -> np.ndarray:
    """1S energy from Yu 2003 inside its range, and E = Eg + c / D^2 continuations outside."""
    d = np.asarray(d_nm, dtype=np.float64)
    lam = np.interp(d, _YU_D, _YU_LAM)
    e = HC_EV_NM / lam
    d_lo, d_hi = _YU_D[0], _YU_D[-1]
    e_lo, e_hi = HC_EV_NM / _YU_LAM[0], HC_EV_NM / _YU_LAM[-1]
    lo = d < d_lo
    e = np.where(lo, bulk_gap_ev + (e_lo - bulk_gap_ev) * (d_lo / np.maximum(d, 1e-3)) ** 1.6, e)
    hi = d > d_hi
    e = np.where(hi, bulk_gap_ev + (e_hi - bulk_gap_ev) * (d_hi / np.maximum(d, 1e-3)) ** 2, e)
    return e


def e1s_ev(optics: Mapping, d_nm, gap_shift_ev: float = 0.0):
    """First-exciton (1S) absorption energy, eV, for diameters `d_nm` (array or scalar).

    `sizing = "yu2003_cdse"` uses Yu 2003 (continued by Eg + c/D^2 outside 1.9-8.5 nm);
    `"weak_confinement"` uses E = e0 + 1/(a D^2 + b D) (preset). `gap_shift_ev` shifts the
    bulk gap (halide exchange).
    """
    d = np.asarray(d_nm, dtype=np.float64)
    if optics["sizing"] == "yu2003_cdse":
        return _yu_energy(d, optics["bulk_gap_ev"]) + gap_shift_ev
    if optics["sizing"] == "weak_confinement":
        dd = np.maximum(d, 0.3)
        return optics["e0_ev"] + gap_shift_ev + 1.0 / (optics["conf_a"] * dd**2 + optics["conf_b"] * dd)
    raise ValueError(f"unknown sizing {optics['sizing']!r}")


def stokes_ev(optics: Mapping, d_nm):
    """Stokes shift, eV: large + coef / D^p (`stokes_mev_coef`, `stokes_size_exponent`;
    CdSe p = 1.5), or large + coef / D^2 or + coef / D (older preset keys)."""
    d = np.maximum(np.asarray(d_nm, dtype=np.float64), 0.5)
    s = optics["stokes_mev_large"]
    if "stokes_mev_per_inv_nm2" in optics:
        s = s + optics["stokes_mev_per_inv_nm2"] / d**2
    if "stokes_mev_per_inv_nm" in optics:
        s = s + optics["stokes_mev_per_inv_nm"] / d
    if "stokes_mev_coef" in optics:
        s = s + optics["stokes_mev_coef"] / d ** optics.get("stokes_size_exponent", 1.0)
    return 1e-3 * s


def shell_red_shift_ev(e1_core_ev, bulk_gap_ev: float, shell: Mapping | None, shell_nm: float):
    """Red shift of the 1S on shelling, eV (>= 0), bounded by the core's confinement energy.

    dE = f (E_1S(D) - E_g,bulk)(1 - exp(-h / L)) (van Embden, Jasieniak & Mulvaney, JACS 131,
    14299 (2009)): f ~0.5-0.6 for CdS (the electron leaks into the shell), ~0.1 for ZnS.
    Since f < 1, the shelled 1S stays above the bulk gap.
    """
    e1 = np.asarray(e1_core_ev, dtype=np.float64)
    if shell is None or shell_nm <= 0:
        return np.zeros_like(e1)
    f = shell["red_shift_fraction"] * -math.expm1(-shell_nm / shell["red_shift_length_nm"])
    return f * np.maximum(e1 - bulk_gap_ev, 0.0)


def eps_1s(optics: Mapping, d_nm):
    """Molar extinction at the 1S peak, M^-1 cm^-1 (Yu 2003: 5857 D^2.65 for CdSe)."""
    d = np.asarray(d_nm, dtype=np.float64)
    return optics["eps_1s_prefactor"] * d ** optics["eps_1s_exponent"]


def gaussian(x, centre, fwhm):
    """Unit-area Gaussian of full width `fwhm` (broadcasting)."""
    sig = fwhm / FWHM_PER_SIGMA
    return np.exp(-0.5 * ((x - centre) / sig) ** 2) / (sig * math.sqrt(2 * math.pi))


# ---------------------------------------------------------------- spectra
def absorbance_per_molar(energy_ev: np.ndarray, e1: np.ndarray, d_nm: np.ndarray,
                         optics: Mapping) -> np.ndarray:
    """(n_bins, P) molar extinction (M^-1 cm^-1) of each bin's dots at pixel energies.

    1S line (Gaussian, half width `line_hwhm_abs_mev`, peak = eps_1S(D) of Yu 2003), two
    higher excitonic transitions (1S3/2-2S and 1P at +0.12 and +0.45 eV scaled by
    confinement, amplitudes 0.5 and 0.9 of the 1S) and an interband continuum rising from
    E1 + 0.25 eV, proportional to the dot volume (Leatherdale et al., J. Phys. Chem. B 106,
    7619 (2002): high-energy absorption ~ volume).
    """
    e = energy_ev[None, :]
    e1c = e1[:, None]
    conf = np.maximum(e1 - optics["bulk_gap_ev"], 0.02)[:, None]
    peak = eps_1s(optics, d_nm)[:, None]
    w = 2e-3 * optics["line_hwhm_abs_mev"]                   # FWHM, eV
    g0 = np.exp(-0.5 * ((e - e1c) / (w / FWHM_PER_SIGMA)) ** 2)
    e2 = e1c + 0.12 + 0.3 * conf
    e3 = e1c + 0.45 + 0.6 * conf
    g1 = 0.5 * np.exp(-0.5 * ((e - e2) / (1.5 * w / FWHM_PER_SIGMA)) ** 2)
    g2 = 0.9 * np.exp(-0.5 * ((e - e3) / (2.5 * w / FWHM_PER_SIGMA)) ** 2)
    cont_ratio = optics.get("continuum_to_1s", 3.0)
    cont = cont_ratio * (0.5 * (1 + np.tanh((e - e1c - 0.25) / 0.12))) * np.sqrt(
        np.maximum(e - e1c, 0.0) + 0.05)
    return peak * (g0 + g1 + g2 + cont)


@njit(cache=True)
def _absorbance_kernel(energy, e1, conf, peak, conc, w_fwhm, cont_ratio, out):
    """out[p] += sum_i conc_i eps_i(E_p): same terms as `absorbance_per_molar`, Gaussians
    evaluated only within 8 sigma (exp(-32) ~ 1e-14 relative beyond)."""
    s0 = w_fwhm / FWHM_PER_SIGMA
    s1 = 1.5 * s0
    s2 = 2.5 * s0
    for i in range(e1.size):
        a = conc[i] * peak[i]
        if a == 0.0:
            continue
        c0 = e1[i]
        c1 = c0 + 0.12 + 0.3 * conf[i]
        c2 = c0 + 0.45 + 0.6 * conf[i]
        for p in range(energy.size):
            e = energy[p]
            v = 0.0
            x = (e - c0) / s0
            if -8.0 < x < 8.0:
                v += math.exp(-0.5 * x * x)
            x = (e - c1) / s1
            if -8.0 < x < 8.0:
                v += 0.5 * math.exp(-0.5 * x * x)
            x = (e - c2) / s2
            if -8.0 < x < 8.0:
                v += 0.9 * math.exp(-0.5 * x * x)
            de = e - c0
            y = (de - 0.25) / 0.12
            if y > 8.0:
                v += cont_ratio * math.sqrt(de + 0.05)       # tanh(y > 8) = 1 - 2e-7
            elif y > -8.0:
                v += cont_ratio * 0.5 * (1.0 + math.tanh(y)) * math.sqrt(max(de, 0.0) + 0.05)
            out[p] += a * v


def ensemble_absorbance(energy_ev: np.ndarray, e1: np.ndarray, d_nm: np.ndarray,
                        conc_molar: np.ndarray, optics: Mapping) -> np.ndarray:
    """(P,) sum over bins of conc_i x eps_i(E) in cm^-1 (multiply by path for A).

    Equals `conc_molar @ absorbance_per_molar(...)` (numba kernel, no (n, P) matrix).

    Args:
        energy_ev: (P,) pixel energies, eV.
        e1, d_nm, conc_molar: (n,) 1S energies (eV), diameters (nm), dot concentrations (M).
        optics: preset optics section.
    """
    energy = np.ascontiguousarray(energy_ev, dtype=np.float64)
    e1 = np.ascontiguousarray(e1, dtype=np.float64)
    d = np.ascontiguousarray(d_nm, dtype=np.float64)
    c = np.ascontiguousarray(conc_molar, dtype=np.float64)
    if not (e1.shape == d.shape == c.shape and e1.ndim == 1 and energy.ndim == 1):
        raise ValueError("e1, d_nm and conc_molar must be 1-D of equal length")
    out = np.zeros(energy.size)
    if e1.size == 0:
        return out
    conf = np.ascontiguousarray(np.maximum(e1 - optics["bulk_gap_ev"], 0.02))
    peak = np.ascontiguousarray(eps_1s(optics, d), dtype=np.float64)
    _absorbance_kernel(energy, e1, conf, peak, c, 2e-3 * optics["line_hwhm_abs_mev"],
                       float(optics.get("continuum_to_1s", 3.0)), out)
    return out


@njit(cache=True)
def _bands_kernel(energy, centre, sigma, weight, out):
    """out[p] += sum_i w_i N(E_p; c_i, s_i) (unit-area Gaussians), within 8 sigma."""
    norm = 1.0 / math.sqrt(2.0 * math.pi)
    for i in range(centre.size):
        if weight[i] <= 0.0:
            continue
        a = weight[i] * norm / sigma[i]
        for p in range(energy.size):
            x = (energy[p] - centre[i]) / sigma[i]
            if -8.0 < x < 8.0:
                out[p] += a * math.exp(-0.5 * x * x)


@dataclass(frozen=True)
class QYModel:
    """Per-bin ensemble exciton QY, the on-state QY behind it and the mean quenching events.

    Attributes:
        qy_x: (n,) ensemble exciton QY per bin = qy_on x exp(-mean_traps).
        mean_traps: (n,) Poisson mean of static quenching events per dot (dark/off dots).
        qy_on: on-state QY_X of a single dot, k_r / (k_r + k_nr,X) (dynamic channels only).
    """

    qy_x: np.ndarray
    mean_traps: np.ndarray
    qy_on: float = 1.0


def exciton_qy(optics: Mapping, d_nm: np.ndarray, ligand_to_metal: float,
               growth_temperature_c: float, shell: Mapping | None, shell_nm: float,
               extra_traps: float = 0.0) -> QYModel:
    """Ensemble QY_X per bin = qy_on exp(-lambda): static quenching (dark or off dots, Poisson).

    lambda = surface capture + strain + internal defects + `extra_traps`:
    * surface capture ~ the exciton's surface probability density (1 - theta) / D:
      c_5nm (1 - theta)(5 nm / D) exp(-h / L_pass), theta = theta_max L / (L + L_half)
      (Langmuir in the ligand:metal ratio L). Not the surface area: the fall with size is
      mild (Talapin et al., Nano Lett. 1, 207 (2001): 40-60 % for amine-passivated cores;
      Qu & Peng, JACS 124, 2049 (2002): up to 85 %).
    * strain (shells): s_max (1 - exp(-(h - h_c) / L_s)) (mismatch / 0.12)^2, saturating
      (Dabbousi et al., J. Phys. Chem. B 101, 9463 (1997): peak at 1.3-1.6 ML ZnS and a
      moderate decline after it). Interior optimum vs shell: passivation falls
      exponentially while strain rises and saturates.
    * internal defects annealed by hotter growth (Arrhenius), surface Mn, secondary nuclei.
    qy_on = `qy_max` (dynamic channels only; the single measured dot is an on-state dot).
    """
    d = np.maximum(np.asarray(d_nm, dtype=np.float64), 0.3)
    theta = optics.get("ligand_coverage_max", 1.0) * ligand_to_metal / (
        ligand_to_metal + optics.get("ligand_coverage_half", 1.5))
    surf = optics["surface_capture_5nm"] * (1.0 - theta) * 5.0 / d
    strain = 0.0
    if shell is not None and shell_nm > 0:
        surf = surf * math.exp(-shell_nm / shell["passivation_length_nm"])
        over = max(shell_nm - shell["strain_critical_nm"], 0.0)
        strain = (shell["strain_traps_max"] * -math.expm1(-over / shell["strain_length_nm"])
                  * (shell["lattice_mismatch"] / 0.12) ** 2)
    t_k = growth_temperature_c + 273.15
    core = optics.get("core_defects_ref", 0.0) * math.exp(
        optics.get("core_defect_ea_kj_mol", 0.0) * 1e3 / 8.314462618 * (1 / t_k - 1 / 533.15))
    traps = surf + strain + core + extra_traps
    qy_on = float(optics["qy_max"])
    return QYModel(qy_x=qy_on * np.exp(-traps), mean_traps=traps, qy_on=qy_on)


def g2_zero_pulsed(qy_x: float, qy_xx: float, mean_excitations: float,
                   ladder: bool = False) -> float:
    """Pulsed g2(0) of one dot (`simulator.dot.g2_zero_pulsed`).

    ladder=False: 2 eta_X eta_XX p2 / (eta_X p1 + eta_XX p2)^2 (SIMULATOR.md), p1, p2 the
    probabilities of >= 1 and >= 2 Poisson excitations with mean <N>; -> eta_XX / eta_X at
    low power. ladder=True adds the higher multiexcitons (rises to 1 at high power).
    """
    if qy_x <= 0:
        return float("nan")
    return dot.g2_zero_pulsed(qy_x, qy_xx, mean_excitations, ladder)


def biexciton_qy(qy_x: float, radiative_lifetime_ns: float, total_volume_nm3: float,
                 auger_ps_per_nm3: float = AUGER_PS_PER_NM3, *, nr_scaling: float = 4.0,
                 shell_nm: float = 0.0, slowdown_length_nm: float | None = None) -> float:
    """QY_XX = 4 k_r / (4 k_r + k_A + s k_nr,X) of an on-state dot (Nair 2011; `simulator.dot`).

    k_r = 1 / radiative lifetime, k_nr,X = k_r (1/qy_x - 1) with `qy_x` the on-state QY,
    k_A = 1 / tau_A, tau_A = auger_ps_per_nm3 x V (1 + h / L_slow). With s = 4,
    QY_XX / QY_X <= 1 for any volume.
    """
    tau_a = dot.auger_time_ns(auger_ps_per_nm3, total_volume_nm3, shell_nm, slowdown_length_nm)
    return float(dot.biexciton_yield(qy_x, radiative_lifetime_ns, tau_a, nr_scaling))


def spectral_photons(energy_ev: np.ndarray, wavelengths_nm: np.ndarray, centre_ev,
                     fwhm_ev, weights) -> np.ndarray:
    """(P,) photons per pixel from Gaussian bands in energy (Jacobian dE/dlambda applied).

    Args:
        energy_ev, wavelengths_nm: (P,) pixel energies and wavelengths.
        centre_ev, fwhm_ev, weights: (n,) band centres, widths and photon numbers.
    """
    c = np.ascontiguousarray(np.atleast_1d(np.asarray(centre_ev, dtype=np.float64)))
    fw = np.broadcast_to(np.asarray(fwhm_ev, dtype=np.float64), c.shape)
    w = np.ascontiguousarray(np.broadcast_to(np.asarray(weights, dtype=np.float64), c.shape))
    if not np.all(fw > 0):
        raise ValueError("band widths must be positive")
    dens = np.zeros(np.shape(energy_ev))
    _bands_kernel(np.ascontiguousarray(energy_ev, dtype=np.float64), c,
                  np.ascontiguousarray(fw / FWHM_PER_SIGMA), w, dens)
    dl = np.gradient(wavelengths_nm)
    return dens * (HC_EV_NM / wavelengths_nm**2) * dl
