"""Core nucleation and growth: population balance solved along characteristics (numba).

Physics (DOMAIN.md s3; Talapin, Rogach, Haase, Weller, J. Phys. Chem. B 105, 12278 (2001)):

* precursor -> monomer: dP/dt = -k(T) P, Arrhenius k = k_ref exp(-Ea/R (1/T - 1/T_ref)),
  times (anion ratio / reference)^n_a and (4 / ligand ratio)^n_L (faster Se supply speeds
  conversion; acid slows it; Owen/Hens: faster conversion -> more nuclei -> smaller dots);
* classical nucleation J = J0 exp(-B / ln^2 S), B = 16 pi gamma^3 v^2 / (3 (kT)^3),
  nuclei born at the critical radius r* = l_c / ln S, l_c = 2 gamma v / kT (capillary length);
* mixed diffusion/reaction growth and dissolution with Gibbs-Thomson solubility
  dr/dt = D v (C - C_inf exp(l_c / r)) / (r + delta), delta = D / k_g;
  Talapin's K = delta / l_c: small K (diffusion control) focuses, large K broadens;
* semi-implicit monomer balance: the free monomer C is solved implicitly against the
  growth sink linearised in C, while each cohort's volume moves explicitly with that C,
  so C stays positive at any step and the mass balance P + C + sum(n v)/v_m = P0 closes
  to rounding error.

Numerics: the population is a set of Lagrangian cohorts (one per nucleation step, merged
when close) moving along characteristics, reported on a fixed log-spaced radius grid
(200 bins, 0.3-15 nm) by cloud-in-cell. A fixed-grid upwind scheme would smear the
distribution by numerical diffusion (several % per decade of growth) and hide size
focusing, which is the effect the optimiser must find. Small growth-rate dispersion is
added when the outlet distribution is formed (`outlet_distribution`).

Calibration (presets in `simulator/materials/*.toml`; fitted by hand on this model by
scanning the campaign boxes): for CdSe, the nucleation prefactor J0, the surface energy gamma,
the solubility C_inf(T) and the conversion rate k(T) were tuned together so that
(i) 220-300 degC and 10-600 s give mean diameters of ~2-6 nm (Yu 2003 range,
Kagan 2021 review); (ii) the narrowest relative spread at the end of focusing is 5-10 %
(as-made ensembles <10 %, review); (iii) ripening dominates after tens of minutes; and
(iv) the 620 nm PL target (core ~5.2-5.4 nm by Yu 2003 with a 20-25 meV Stokes shift) is
reachable inside the cdse_620nm box (long residence, low ligand, high metal) but not at
its centre. The numbers behind each are in the module-level `CALIBRATION_NOTES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from simulator.materials import AVOGADRO, Material

KB = 1.380649e-23          # J/K
R_GAS = 8.314462618        # J/(mol K)
MOLAR_TO_NM3 = AVOGADRO * 1e-24   # 1 mol/L = 0.602 molecules per nm^3

N_BINS = 200
R_MIN_NM = 0.3
R_MAX_NM = 15.0
MAX_COHORTS = 400
BIRTH_FACTOR = 1.1         # nuclei are born just supercritical, r = 1.1 r* (off the unstable
                           # equilibrium at r*, where thermal fluctuations would push them)
MAX_STEPS = 400_000         # budget; a trajectory that needs more is frozen (`truncated`)
N_SNAPSHOTS = 240
T_FIRST_S = 0.05
T_LAST_S = 45000.0         # 25 x the longest allowed residence time (1800 s)

CALIBRATION_NOTES = """
What was fitted to what (by scanning the campaign boxes with `outlet_state`; the targets are
asserted in tests/simulator/test_calibration.py):

CdSe (cdse.toml), reference 260 degC:
* conversion k_ref = 0.012 1/s, Ea = 95 kJ/mol (inside 50-150 kJ/mol): nucleation over in
  seconds, full conversion in ~5 min at 260 degC (DOMAIN s3: nucleation < 1 min).
* effective D = 1e5 nm^2/s with C_inf(260 degC) = 4e-6 M (real D ~1e9 nm^2/s with C_inf 1e4x
  lower: only D*C_inf matters at quasi-steady monomer), dH_sol = 80 kJ/mol: ripening takes
  over after ~10-30 min at 260-300 degC (review) and <r>^3 grows linearly (LSW).
* gamma = 0.168 J/m^2 and J0 = 1e30 /(L s), fitted together: J must be ~zero at the
  growth-phase supersaturation (S ~ 20) and large in the burst (S ~ 100-200), and the
  number of nuclei must give 2-6 nm (up to ~8 nm after long ripening) over 220-300 degC
  (Yu 2003 range); the centre of the cdse_620nm box gives 627 nm PL, the 620 nm target
  (~5.3 nm core by Yu 2003 + 20-25 meV Stokes) is met in several places, with the
  narrowest line (~20 nm, ~67 meV) at long tau, low ligand and high metal.
* reaction length D/k_g = 1 nm at ligand:metal 4 (Talapin K ~ 0.4); K ~ ligand ratio, so
  low ligand focuses: narrowest as-made spread ~5 % (best spread 5-10 %, review); growth-rate
  dispersion 4 % (log-normal floor).
CsPbBr3: size set by temperature within seconds (Protesescu et al., Nano Lett. 15, 3692
  (2015): 140 -> 200 degC gives ~4 -> 12 nm). Fitted: solubility dH = 95 kJ/mol (steep rise
  of C_inf with T, so the burst supersaturation and the number of nuclei fall ~20x from 140
  to 200 degC) with gamma = 0.0551 J/m^2, conversion Ea = 40 kJ/mol: 4.3 nm at 140, 7.6 nm
  at 180 and 13 nm at 200 degC after 5 s, growth arrested by monomer depletion (30 s changes
  the size by < 15 %); PL 475-515 nm. The ensemble FWHM 18-25 nm (Protesescu) is reached
  with a single-dot width of 85 meV and the ~14 % spread of the burst.
Mn:ZnSe: gamma = 0.17 J/m^2, J0 = 1.5e30, Ea = 110 kJ/mol: 2-6 nm at 240-310 degC.
"""


@dataclass(frozen=True)
class GrowthParams:
    """Kernel parameters in kernel units (nm, s, molecules per nm^3).

    Attributes:
        p0: limiting precursor, monomer equivalents per nm^3.
        k_conv: precursor conversion rate constant, 1/s.
        c_inf: flat-surface monomer solubility, per nm^3.
        diffusion: monomer diffusion coefficient, nm^2/s.
        delta: reaction length D / k_g, nm.
        l_c: capillary length 2 gamma v_m / kT, nm.
        barrier: B in J = J0 exp(-B / ln^2 S), dimensionless.
        j0: nucleation prefactor, per nm^3 per s.
        v_m: volume of one formula unit, nm^3.
    """

    p0: float
    k_conv: float
    c_inf: float
    diffusion: float
    delta: float
    l_c: float
    barrier: float
    j0: float
    v_m: float

    @property
    def talapin_k(self) -> float:
        """Talapin's K = D / (k_g l_c) = delta / l_c (small focuses, large broadens)."""
        return self.delta / self.l_c


def growth_params(material: Material, temperature_c: float, metal_conc_mm: float,
                  anion_ratio: float, ligand_to_metal: float, *,
                  reactivity: float = 1.0) -> GrowthParams:
    """Kernel parameters of `material` at one set of conditions.

    Args:
        material: preset.
        temperature_c: core temperature, degC.
        metal_conc_mm: metal precursor after mixing, mM.
        anion_ratio: Se:Cd (Se:Zn) or Br:Pb molar feed ratio.
        ligand_to_metal: ligand:metal molar ratio.
        reactivity: campaign drift multiplier on the conversion rate (1 = nominal).
    """
    kin = material.kinetics
    t_k = temperature_c + 273.15
    t_ref = kin["reference_temperature_c"] + 273.15
    arr = lambda ea_kj: math.exp(-ea_kj * 1e3 / R_GAS * (1.0 / t_k - 1.0 / t_ref))  # noqa: E731
    stoich = 3.0 if material.host_cation == "Pb" else 1.0     # Br per Pb, Se per Cd
    ref_anion = 3.0 if material.host_cation == "Pb" else 2.0
    limiting = min(1.0, anion_ratio / stoich)
    p0 = metal_conc_mm * 1e-3 * limiting * MOLAR_TO_NM3
    k_conv = (kin["conversion_k_ref_s"] * arr(kin["conversion_ea_kj_mol"])
              * (anion_ratio / ref_anion) ** kin["anion_order"]
              * (4.0 / ligand_to_metal) ** kin["ligand_order"] * reactivity)
    c_inf = (kin["solubility_ref_molar"] * arr(kin["solubility_dh_kj_mol"])
             * (ligand_to_metal / 4.0) ** kin["solubility_ligand_order"] * MOLAR_TO_NM3)
    gamma = kin["surface_energy_j_m2"]
    v_m = material.molecular_volume_nm3
    kt = KB * t_k
    v_si = v_m * 1e-27
    l_c = 2.0 * gamma * v_si / kt * 1e9
    barrier = 16.0 * math.pi * gamma ** 3 * v_si ** 2 / (3.0 * kt ** 3)
    delta = kin["reaction_length_nm"] * (ligand_to_metal / 4.0) ** kin["reaction_length_ligand_order"]
    return GrowthParams(p0=p0, k_conv=k_conv, c_inf=c_inf, diffusion=kin["diffusion_nm2_s"],
                        delta=delta, l_c=l_c, barrier=barrier,
                        j0=kin["nucleation_prefactor_per_l_s"] * 1e-24, v_m=v_m)


def radius_grid(n_bins: int = N_BINS) -> tuple[np.ndarray, np.ndarray]:
    """(edges (n_bins+1,), centres (n_bins,)) of the log radius grid, nm (geometric centres)."""
    edges = np.geomspace(R_MIN_NM, R_MAX_NM, n_bins + 1)
    return edges, np.sqrt(edges[:-1] * edges[1:])


def snapshot_times(n: int = N_SNAPSHOTS) -> np.ndarray:
    """(n,) log-spaced snapshot times, s, from T_FIRST_S to T_LAST_S."""
    return np.geomspace(T_FIRST_S, T_LAST_S, n)


# Columns of the per-snapshot scalar table.
SCALARS = ("t_s", "precursor", "monomer", "supersaturation", "r_star_nm", "n_particles",
           "particle_monomers", "mean_r_nm", "std_r_nm", "nuclei_formed", "mean_r3_nm3",
           "n_cohorts")


@njit(cache=True)
def _record(hist, scal, s, t, P, C, c_inf, l_c, r, nd, nco, v_m, nuc_total, lnr_lo, dlnr,
            nbins):
    four_third_pi = 4.0 / 3.0 * math.pi
    ntot = 0.0
    m = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for k in range(nco):
        rk = r[k]
        nk = nd[k]
        ntot += nk
        m += nk * four_third_pi * rk * rk * rk / v_m
        s1 += nk * rk
        s2 += nk * rk * rk
        s3 += nk * rk * rk * rk
        x = (math.log(rk) - lnr_lo) / dlnr - 0.5
        i = int(math.floor(x))
        f = x - i
        if i < 0:
            hist[s, 0] += nk
        elif i >= nbins - 1:
            hist[s, nbins - 1] += nk
        else:
            hist[s, i] += nk * (1.0 - f)
            hist[s, i + 1] += nk * f
    sat = C / c_inf
    scal[s, 0] = t
    scal[s, 1] = P
    scal[s, 2] = C
    scal[s, 3] = sat
    scal[s, 4] = l_c / math.log(sat) if sat > 1.0 else 0.0
    scal[s, 5] = ntot
    scal[s, 6] = m
    if ntot > 0.0:
        mean = s1 / ntot
        scal[s, 7] = mean
        scal[s, 8] = math.sqrt(max(s2 / ntot - mean * mean, 0.0))
        scal[s, 10] = s3 / ntot
    scal[s, 9] = nuc_total
    scal[s, 11] = nco


@njit(cache=True)
def _grow_kernel(p0, k_conv, c_inf, diff, delta, l_c, barrier, j0, v_m, r_min, t_snap,
                 lnr_lo, dlnr, nbins, max_cohorts, max_steps):
    """Batch trajectory; returns (hist (S, nbins) per nm^3, scalars (S, 12), steps)."""
    nsnap = t_snap.size
    hist = np.zeros((nsnap, nbins))
    scal = np.zeros((nsnap, 12))
    r = np.zeros(max_cohorts)
    vol = np.zeros(max_cohorts)
    nd = np.zeros(max_cohorts)
    g = np.zeros(max_cohorts)
    ceq = np.zeros(max_cohorts)
    nco = 0
    four_pi = 4.0 * math.pi
    ftp = 4.0 / 3.0 * math.pi
    v_min = ftp * r_min ** 3
    P = p0
    C = 0.0
    t = 0.0
    nuc_total = 0.0
    dt_nat = min(1e-4, 0.01 / k_conv)
    s = 0
    steps = 0
    while s < nsnap:
        while s < nsnap and t >= t_snap[s] * (1.0 - 1e-12):
            _record(hist, scal, s, t, P, C, c_inf, l_c, r, nd, nco, v_m, nuc_total,
                    lnr_lo, dlnr, nbins)
            s += 1
        if s >= nsnap:
            break
        if steps >= max_steps:
            # step budget exhausted: the state is frozen for the remaining snapshots
            while s < nsnap:
                _record(hist, scal, s, t_snap[s], P, C, c_inf, l_c, r, nd, nco, v_m,
                        nuc_total, lnr_lo, dlnr, nbins)
                s += 1
            break
        steps += 1
        # ---- growth coefficients at the current radii
        alpha = 0.0
        beta = 0.0
        for k in range(nco):
            ceq[k] = c_inf * math.exp(l_c / r[k])
            g[k] = nd[k] * four_pi * r[k] * r[k] * diff / (r[k] + delta)
            alpha += g[k]
            beta += g[k] * ceq[k]
        # ---- step size
        dt = dt_nat * 1.5
        if P > 1e-9 * p0:
            dt = min(dt, 0.02 / k_conv)
        for k in range(nco):
            rate = diff * v_m * (C - ceq[k]) / (r[k] + delta)
            if rate > 0.0:
                dt = min(dt, 0.03 * r[k] / rate)
            elif rate < 0.0 and r[k] > 2.0 * r_min:
                dt = min(dt, 0.1 * r[k] / -rate)
        sat = C / c_inf
        jn = 0.0
        vn = 0.0
        if sat > 1.0:
            lns = math.log(sat)
            jn = j0 * math.exp(-barrier / (lns * lns))
            rn = max(BIRTH_FACTOR * l_c / lns, r_min * 1.05)
            vn = ftp * rn ** 3
            if jn > 0.0:
                dt = min(dt, 0.05 * C / (jn * vn / v_m))
        dt_nat = max(dt, 1e-12)
        dt = min(dt_nat, t_snap[s] - t)
        # ---- step: production, nucleation, implicit monomer, explicit volumes
        prod = P * (1.0 - math.exp(-k_conv * dt))
        dn = jn * dt
        nuc_mol = dn * vn / v_m
        if nuc_mol < 1e-10 * p0:
            # negligible nucleation (< 1e-10 of the material): skipped, with its monomer
            dn = 0.0
            nuc_mol = 0.0
        c_imp = (C + prod - nuc_mol + dt * beta) / (1.0 + dt * alpha)
        if c_imp < 0.0:
            c_imp = 0.0
        consumed = 0.0
        k = 0
        while k < nco:
            dv = dt * four_pi * r[k] * r[k] * diff * v_m * (c_imp - ceq[k]) / (r[k] + delta)
            vnew = vol[k] + dv
            if vnew < v_min:
                # the cohort dissolves completely; remove it keeping the birth order
                consumed -= nd[k] * vol[k] / v_m
                for q in range(k, nco - 1):
                    r[q] = r[q + 1]
                    vol[q] = vol[q + 1]
                    nd[q] = nd[q + 1]
                    ceq[q] = ceq[q + 1]
                nco -= 1
                continue
            consumed += nd[k] * dv / v_m
            vol[k] = vnew
            r[k] = (vnew / ftp) ** (1.0 / 3.0)
            k += 1
        P -= prod
        C = C + prod - nuc_mol - consumed
        t += dt
        # ---- add nuclei as a new cohort (or merge with a near cohort)
        if dn > 0.0:
            rn = (vn / ftp) ** (1.0 / 3.0)
            merged = False
            if nco > 0:
                last = nco - 1
                if abs(math.log(r[last] / rn)) < 0.003:
                    vol[last] = (nd[last] * vol[last] + dn * vn) / (nd[last] + dn)
                    nd[last] += dn
                    r[last] = (vol[last] / ftp) ** (1.0 / 3.0)
                    merged = True
            if not merged:
                if nco == max_cohorts:
                    # merge the closest pair of neighbours in radius (volume conserving)
                    best = 0
                    bestd = 1e300
                    for q in range(nco - 1):
                        d = abs(math.log(r[q] / r[q + 1]))
                        if d < bestd:
                            bestd = d
                            best = q
                    ntot = nd[best] + nd[best + 1]
                    vol[best] = (nd[best] * vol[best] + nd[best + 1] * vol[best + 1]) / ntot
                    nd[best] = ntot
                    r[best] = (vol[best] / ftp) ** (1.0 / 3.0)
                    for q in range(best + 1, nco - 1):
                        r[q] = r[q + 1]
                        vol[q] = vol[q + 1]
                        nd[q] = nd[q + 1]
                    nco -= 1
                r[nco] = rn
                vol[nco] = vn
                nd[nco] = dn
                nco += 1
            nuc_total += dn
    return hist, scal, steps


@dataclass(frozen=True)
class Trajectory:
    """A batch trajectory sampled at snapshot times.

    Attributes:
        params: the kernel parameters.
        times_s: (S,) snapshot times, s.
        radius_edges_nm: (B+1,) log grid edges; radius_nm: (B,) bin centres.
        number: (S, B) particles per nm^3 in each radius bin.
        scalars: (S, len(SCALARS)) per-snapshot table, columns named by `SCALARS`.
        steps: time steps taken.
    """

    params: GrowthParams
    times_s: np.ndarray
    radius_edges_nm: np.ndarray
    radius_nm: np.ndarray
    number: np.ndarray
    scalars: np.ndarray
    steps: int

    @property
    def truncated(self) -> bool:
        """True when the step budget ran out (later snapshots repeat the last state)."""
        return self.steps >= MAX_STEPS

    def column(self, name: str) -> np.ndarray:
        """(S,) one column of the scalar table by name (see `SCALARS`)."""
        return self.scalars[:, SCALARS.index(name)]

    def mass_balance_error(self) -> np.ndarray:
        """(S,) |P + C + particle monomers - P0| / P0 at each snapshot."""
        tot = self.column("precursor") + self.column("monomer") + self.column(
            "particle_monomers")
        return np.abs(tot - self.params.p0) / self.params.p0


def simulate_batch(params: GrowthParams, times_s: np.ndarray | None = None,
                   n_bins: int = N_BINS, max_cohorts: int = MAX_COHORTS) -> Trajectory:
    """Integrate one batch trajectory (the core reactor at fixed T and concentrations).

    Args:
        params: kernel parameters (`growth_params`).
        times_s: (S,) increasing snapshot times, s; default `snapshot_times()`.
        n_bins: radius bins of the reported grid (150-300).
        max_cohorts: cohort budget (merging beyond it conserves volume).

    Returns:
        The `Trajectory`.
    """
    if times_s is None:
        times_s = snapshot_times()
    times_s = np.ascontiguousarray(times_s, dtype=np.float64)
    if times_s.ndim != 1 or times_s.size < 1 or np.any(np.diff(times_s) <= 0) or times_s[0] <= 0:
        raise ValueError("times_s must be 1-D, positive and increasing")
    if not 20 <= n_bins <= 2000:
        raise ValueError(f"n_bins must be in [20, 2000], got {n_bins}")
    for name in ("p0", "k_conv", "c_inf", "diffusion", "l_c", "barrier", "j0", "v_m"):
        val = getattr(params, name)
        if not (math.isfinite(val) and val > 0):
            raise ValueError(f"growth parameter {name} must be positive and finite, got {val}")
    if not (math.isfinite(params.delta) and params.delta >= 0):
        raise ValueError(f"growth parameter delta must be >= 0, got {params.delta}")
    edges, centres = radius_grid(n_bins)
    lnr_lo = math.log(R_MIN_NM)
    dlnr = math.log(R_MAX_NM / R_MIN_NM) / n_bins
    hist, scal, steps = _grow_kernel(params.p0, params.k_conv, params.c_inf, params.diffusion,
                                     params.delta, params.l_c, params.barrier, params.j0,
                                     params.v_m, R_MIN_NM, times_s, lnr_lo, dlnr, n_bins,
                                     max_cohorts, MAX_STEPS)
    return Trajectory(params=params, times_s=times_s, radius_edges_nm=edges,
                      radius_nm=centres, number=hist, scalars=scal, steps=int(steps))


@dataclass(frozen=True)
class SizeDistribution:
    """Outlet particle-size distribution.

    Attributes:
        radius_nm: (B,) bin centres; number: (B,) particles per nm^3 (in the reactor).
        particle_monomers: formula units in particles per nm^3 (for yield).
        precursor, monomer: unreacted precursor and free monomer per nm^3.
    """

    radius_nm: np.ndarray
    number: np.ndarray
    particle_monomers: float
    precursor: float
    monomer: float

    @property
    def total(self) -> float:
        return float(self.number.sum())

    def mean_diameter_nm(self) -> float:
        n = self.total
        return float(2.0 * (self.number @ self.radius_nm) / n) if n > 0 else 0.0

    def relative_spread(self) -> float:
        """sigma_D / <D> (number weighted)."""
        n = self.total
        if n <= 0:
            return 0.0
        m = (self.number @ self.radius_nm) / n
        var = (self.number @ (self.radius_nm - m) ** 2) / n
        return float(math.sqrt(max(var, 0.0)) / m)


def outlet_distribution(traj: Trajectory, weights: np.ndarray,
                        growth_rate_dispersion: float = 0.0) -> SizeDistribution:
    """Segregated-flow outlet: sum_s w_s n_s(r), broadened by growth-rate dispersion.

    Args:
        traj: batch trajectory.
        weights: (S,) RTD weights of the snapshots (`simulator.rtd.snapshot_weights`).
        growth_rate_dispersion: log-normal sigma (relative) of the per-particle growth rate,
            applied as a Gaussian kernel in ln r (Talapin 2001's small dispersion).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != traj.times_s.shape:
        raise ValueError(f"weights shape {w.shape} != snapshots {traj.times_s.shape}")
    num = w @ traj.number
    if growth_rate_dispersion > 0:
        dlnr = math.log(traj.radius_edges_nm[1] / traj.radius_edges_nm[0])
        half = int(math.ceil(4 * growth_rate_dispersion / dlnr))
        x = np.arange(-half, half + 1) * dlnr
        ker = np.exp(-0.5 * (x / growth_rate_dispersion) ** 2)
        ker /= ker.sum()
        num = np.convolve(num, ker, mode="same")
    return SizeDistribution(radius_nm=traj.radius_nm, number=num,
                            particle_monomers=float(w @ traj.column("particle_monomers")),
                            precursor=float(w @ traj.column("precursor")),
                            monomer=float(w @ traj.column("monomer")))
