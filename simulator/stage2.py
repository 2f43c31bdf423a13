"""Stage 2: shell growth, halide exchange and dopant uptake (SIMULATOR.md pipeline step 3).

All functions are plain arithmetic on the outlet of the core stage; parameters come from
the materials presets. The second-stage coil has half the core volume at the same flow,
so its residence time is `STAGE2_VOLUME_RATIO * residence_time_s`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from simulator.growth import R_GAS

STAGE2_VOLUME_RATIO = 0.5


def arrhenius(k_ref: float, ea_kj_mol: float, temperature_c: float, t_ref_c: float) -> float:
    """k_ref exp(-Ea/R (1/T - 1/T_ref)); temperatures in degC."""
    t, tr = temperature_c + 273.15, t_ref_c + 273.15
    return k_ref * math.exp(-ea_kj_mol * 1e3 / R_GAS * (1.0 / t - 1.0 / tr))


@dataclass(frozen=True)
class ShellResult:
    """Outcome of shell growth.

    Attributes:
        material: shell material ("ZnS", "CdS", or "none").
        thickness_nm: mean shell thickness grown on the cores.
        monolayers: the same in monolayers.
        secondary_fraction: fraction of the shell dose lost to secondary nucleation, 0..1.
        secondary_monomer_molar: shell formula units in secondary nuclei, mol/L (reactor).
        oversupply: supply rate / deposition capacity (> 1 -> secondary nucleation).
    """

    material: str
    thickness_nm: float
    monolayers: float
    secondary_fraction: float
    secondary_monomer_molar: float
    oversupply: float


def grow_shell(shell: Mapping[str, float] | None, shell_name: str, dose_ml: float,
               shell_temperature_c: float, residence_time_s: float,
               core_monomer_molar: float, mean_core_diameter_nm: float) -> ShellResult:
    """Shell growth to a thickness set by the dose, with secondary nucleation if oversupplied.

    Deposition capacity k_dep(T2) ML/s (Arrhenius, reference 220 degC). Supplying the dose
    over the stage-2 time tau2 at a rate above the capacity (oversupply Omega > 1) sends the
    excess, 1 - 1/Omega, into secondary nuclei (homogeneous nucleation of the shell
    material, e.g. ZnS; Dabbousi et al., J. Phys. Chem. B 101, 9463 (1997) add shell
    precursors slowly for this reason). The deposited part completes as
    1 - exp(-k_dep tau2 / dose).

    Args:
        shell: preset section of the shell, or None.
        shell_name: its name.
        dose_ml: shell precursor dose in monolayer equivalents (condition shell_monolayers).
        shell_temperature_c: stage-2 temperature, degC.
        residence_time_s: core residence time, s (stage 2 takes half of it).
        core_monomer_molar: core formula units in particles, mol/L (for the shell molar dose).
        mean_core_diameter_nm: mean core diameter, nm.
    """
    if shell is None or dose_ml <= 0 or shell["monolayer_nm"] <= 0:
        return ShellResult(shell_name if shell else "none", 0.0, 0.0, 0.0, 0.0, 0.0)
    tau2 = STAGE2_VOLUME_RATIO * residence_time_s
    k_dep = arrhenius(shell["deposition_k_ref_ml_s"], shell["deposition_ea_kj_mol"],
                      shell_temperature_c, 220.0)
    omega = (dose_ml / tau2) / max(k_dep * shell["secondary_nucleation_ratio"], 1e-12)
    f_sec = max(0.0, 1.0 - 1.0 / omega) if omega > 1.0 else 0.0
    completion = 1.0 - math.exp(-k_dep * tau2 / dose_ml)
    ml = dose_ml * (1.0 - f_sec) * completion
    h = ml * shell["monolayer_nm"]
    # shell monomers of the whole dose, relative to the core monomers (volume ratio)
    d = max(mean_core_diameter_nm, 0.5)
    h_dose = dose_ml * shell["monolayer_nm"]
    vol_ratio = ((d + 2 * h_dose) ** 3 - d ** 3) / d ** 3
    sec_molar = f_sec * vol_ratio * core_monomer_molar
    return ShellResult(shell_name, h, ml, f_sec, sec_molar, omega)


@dataclass(frozen=True)
class ExchangeResult:
    """Halide exchange outcome: fraction x of Br replaced by `halide` and the gap shift."""

    halide: str
    fraction: float
    gap_shift_ev: float
    segregated_fraction: float


def halide_exchange(optics: Mapping[str, float], halide: str, target_fraction: float,
                    temperature_c: float, residence_time_s: float) -> ExchangeResult:
    """Anion exchange CsPbBr3 -> CsPb(Br1-xXx)3 relaxing at k_ex(T).

    x = x_target (1 - exp(-k_ex tau2)) (exchange is fast, seconds: Nedelcu et al., Nano
    Lett. 15, 5635 (2015); Akkerman et al., JACS 137, 10276 (2015)). Bulk gap by Vegard's
    law with bowing b: E(x) = (1-x) E_Br + x E_X - b x (1-x). Mixed Br/I above an iodide
    fraction ~0.2 photo-segregates into I-rich domains (Hoke et al., Chem. Sci. 6, 613
    (2015)): `segregated_fraction` of the emission then comes from I-rich domains.
    """
    if target_fraction <= 0:
        return ExchangeResult(halide, 0.0, 0.0, 0.0)
    tau2 = STAGE2_VOLUME_RATIO * residence_time_s
    k_ex = arrhenius(optics["exchange_k_ref_s"], optics["exchange_ea_kj_mol"],
                     temperature_c, 25.0)
    x = target_fraction * (1.0 - math.exp(-k_ex * tau2))
    e_br = optics["bulk_gap_ev"]
    e_x = optics["gap_cl_ev"] if halide == "Cl" else optics["gap_i_ev"]
    b = optics["bowing_ev"]
    shift = x * (e_x - e_br) - b * x * (1.0 - x)
    seg = 0.0
    if halide == "I":
        lo, hi = optics["segregation_min_iodide"], optics["segregation_max_iodide"]
        if lo < x < hi:
            seg = 0.7 * min(1.0, (x - lo) / 0.3) * min(1.0, (hi - x) / 0.1)
    return ExchangeResult(halide, x, shift, seg)


@dataclass(frozen=True)
class DopantUptake:
    """Mn uptake: mean interior and surface dopants per dot for a dot of given volume."""

    efficiency: float
    interior_per_site: float
    surface_per_site: float


def dopant_uptake(dopant: Mapping[str, float] | None, feed_fraction: float,
                  temperature_c: float, shell_thickness_nm: float) -> DopantUptake:
    """Dopants per cation site: lambda = efficiency(T) x feed fraction x sites (Poisson).

    Efficiency ~0.1 x feed at the optimum temperature (DOMAIN s6, "~10x below the feed"),
    Gaussian in T (too cold: no lattice diffusion; too hot: segregation/expulsion, e.g.
    ZnSe:Cu+ above 220 degC [review]). A fraction of the dopants sits near the surface and
    does not emit (review); a shell buries them: surface fraction f_s exp(-h / L).
    """
    if dopant is None or feed_fraction <= 0:
        return DopantUptake(0.0, 0.0, 0.0)
    eff = dopant["efficiency"] * math.exp(
        -(((temperature_c - dopant["efficiency_optimum_c"]) / dopant["efficiency_width_c"]) ** 2))
    per_site = eff * feed_fraction
    f_surf = dopant["surface_fraction_bare"] * math.exp(
        -shell_thickness_nm / dopant["surface_burial_length_nm"])
    return DopantUptake(eff, per_site * (1.0 - f_surf), per_site * f_surf)


def mn_emission_per_dot(lam_interior, q_single: float, pair_quench: float):
    """Expected Mn QY per dot for Poisson(lambda) interior Mn, QY(k) = q exp(-c (k-1)).

    Sum_{k>=1} P(k) q e^{-c(k-1)} = q e^{c} (exp(-lambda (1 - e^{-c})) - exp(-lambda)).
    Works elementwise on numpy arrays.
    """
    import numpy as np
    lam = np.asarray(lam_interior, dtype=np.float64)
    c = pair_quench
    return q_single * math.exp(c) * (np.exp(-lam * (1.0 - math.exp(-c))) - np.exp(-lam))
