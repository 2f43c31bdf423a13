"""Single-dot photophysics: on-state yields, Auger, blinking suppression, pulsed photon moments.

Plain arithmetic shared by the outlet truth (`simulator.outlet`) and the photon-stream
generator (`simulator.photons`), so the expected g2(0) and the simulated stream use one model.

Rates of one dot in its on state (Nair, Zhao & Bawendi, Nano Lett. 11, 1136 (2011)):
    k_r = 1 / radiative lifetime,  k_nr,X = k_r (1/QY_X,on - 1)     (dynamic channels only)
    QY_X  = k_r / (k_r + k_nr,X),  tau_X = 1 / (k_r + k_nr,X)
    QY_XX = 4 k_r / (4 k_r + k_A + s k_nr,X),  s = `biexciton_nr_scaling` >= 2
With s = 4 (the statistical scaling of the radiative channel, 2 electrons x 2 holes) the
low-power g2(0) = QY_XX / QY_X = 4 k_X / (4 k_X + k_A) <= 1 for every k_A >= 0, an identity
(k_X = k_r + k_nr,X). Static channels (surface traps, strain, internal defects) switch a dot
off (blinking, dark dots); they lower the ensemble PLQY, not QY_X,on.

Auger: tau_A = a V (1 + h / L_slow), with a per material (CdSe ~1 ps/nm^3, Klimov et al.,
Science 287, 1011 (2000); CsPbBr3 cubes, Makarov et al., Nano Lett. 16, 2349 (2016)),
V the total dot volume (sphere pi/6 D^3 or cube L^3) and L_slow per shell (interface
smoothing slows Auger as the shell thickens: Park et al., PRL 106, 187401 (2011); Cragg &
Efros, Nano Lett. 10, 313 (2010)).

Multiexcitons (pulsed): a pulse leaves N ~ Poisson(<N>) excitations. With the ladder on,
every level above the exciton emits one photon with the biexciton yield: Klimov 2000 found
tau_2 / tau_3 ~ 2.3, close to the radiative-rate ratio (3/2)^2 = 2.25, so QY_n ~ QY_XX for
n >= 2. Then per pulse E[n | N = k] = eta_X + (k - 1) eta_XX, and
    <n>        = eta_X p1 + eta_XX (<N> - p1)
    <n (n-1)>  = 2 eta_X eta_XX (<N> - p1) + eta_XX^2 (<N>^2 - 2<N> + 2 - 2 e^-<N>)
    g2(0)      = <n (n-1)> / <n>^2,
which tends to eta_XX / eta_X at low power and rises to 1 (Poisson light) at high power.
Without the ladder (saturation at the biexciton) it is the SIMULATOR.md formula
2 eta_X eta_XX p2 / (eta_X p1 + eta_XX p2)^2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

#: pi/6: sphere volume per D^3.
SPHERE = math.pi / 6.0
PHOTON_COLLECTION_EFFICIENCY = 0.15   # high-NA confocal HBT setup (~0.1-0.3 collection)
DETECTOR_EFFICIENCY = 0.6        # each SPAD of the HBT (`photons.DetectorParams` default)
DARK_RATE_HZ = 100.0             # each SPAD (`photons.DetectorParams` default)
ON_FRACTION = 0.5                # blinking with equal on/off power laws (`photons.EmitterParams`)


def poisson_p1_p2(mean_excitations: float) -> tuple[float, float]:
    """P(N >= 1) and P(N >= 2) for N ~ Poisson(mean_excitations), accurate at small means."""
    n = float(mean_excitations)
    p1 = -math.expm1(-n)
    if n < 1e-3:
        p2 = n * n / 2.0 - n**3 / 3.0 + n**4 / 8.0    # series of 1 - e^-n (1 + n)
    else:
        p2 = p1 - n * math.exp(-n)
    return p1, max(p2, 0.0)


def _excess_moments(n: float) -> tuple[float, float]:
    """E[(N-1) 1{N>=1}] and E[(N-1)(N-2) 1{N>=1}] for N ~ Poisson(n), series at small n."""
    if n < 1e-2:
        return n * n / 2.0 - n**3 / 6.0 + n**4 / 24.0, n**3 / 3.0 - n**4 / 12.0 + n**5 / 60.0
    return n + math.expm1(-n), n * n - 2.0 * n + 2.0 - 2.0 * math.exp(-n)


def pulsed_photon_moments(eta_x: float, eta_xx: float, mean_excitations: float,
                          ladder: bool) -> tuple[float, float]:
    """(<n>, <n(n-1)>) of the photons one dot emits per pulse (see the module docstring).

    Args:
        eta_x, eta_xx: exciton and biexciton emission yields, [0, 1].
        mean_excitations: <N> >= 0, Poisson mean excitations per pulse.
        ladder: True -> every level above X emits with eta_xx; False -> saturation at XX.
    """
    p1, p2 = poisson_p1_p2(mean_excitations)
    if not ladder:
        return eta_x * p1 + eta_xx * p2, 2.0 * eta_x * eta_xx * p2
    e1, e2 = _excess_moments(float(mean_excitations))
    return eta_x * p1 + eta_xx * e1, 2.0 * eta_x * eta_xx * e1 + eta_xx * eta_xx * e2


def g2_zero_pulsed(eta_x: float, eta_xx: float, mean_excitations: float,
                   ladder: bool = False) -> float:
    """Pulsed g2(0) = <n(n-1)> / <n>^2 (centre over side peak areas); nan if nothing emits."""
    mean, fact2 = pulsed_photon_moments(eta_x, eta_xx, mean_excitations, ladder)
    return fact2 / (mean * mean) if mean > 0.0 else float("nan")


def volume_nm3(size_nm, shape: str = "sphere"):
    """Particle volume, nm^3: pi/6 D^3 for a sphere of diameter D, L^3 for a cube of edge L."""
    s = np.asarray(size_nm, dtype=np.float64)
    if shape == "cube":
        return s**3
    if shape == "sphere":
        return SPHERE * s**3
    raise ValueError(f"unknown shape {shape!r}; allowed: sphere, cube")


def auger_time_ns(auger_ps_per_nm3: float, total_volume_nm3, shell_nm: float = 0.0,
                  slowdown_length_nm: float | None = None):
    """Biexciton Auger time tau_A = a V (1 + h / L_slow), ns (no slowdown when L is None)."""
    f = 1.0 if not slowdown_length_nm or shell_nm <= 0 else 1.0 + shell_nm / slowdown_length_nm
    return auger_ps_per_nm3 * np.asarray(total_volume_nm3, dtype=np.float64) * f * 1e-3


def biexciton_yield(qy_x_on, radiative_lifetime_ns: float, auger_ns, nr_scaling: float = 4.0):
    """QY_XX = 4 k_r / (4 k_r + k_A + s k_nr,X), k_nr,X = k_r (1/QY_X - 1) (module docstring)."""
    q = np.asarray(qy_x_on, dtype=np.float64)
    k_r = 1.0 / radiative_lifetime_ns
    k_nr = k_r * (1.0 / np.maximum(q, 1e-12) - 1.0)
    return 4.0 * k_r / (4.0 * k_r + 1.0 / np.asarray(auger_ns, dtype=np.float64) + nr_scaling * k_nr)


def off_state_brightness(shell_nm: float, suppression_length_nm: float | None) -> float:
    """Brightness of the off state relative to on, 1 - exp(-h / L) (0 for a bare core).

    Thick CdS shells turn off states grey and then bright: non-blinking giant shells
    (Chen et al., JACS 130, 5026 (2008); Mahler et al., Nat. Mater. 7, 659 (2008)).
    """
    if shell_nm <= 0 or not suppression_length_nm:
        return 0.0
    return float(-math.expm1(-shell_nm / suppression_length_nm))


def single_dot_stats(ox: Mapping[str, Any], d_core: np.ndarray, n_molar: np.ndarray,
                     qy_on: float, c: Mapping[str, Any], shell_p: Mapping[str, Any] | None,
                     h: float) -> dict[str, Any]:
    """Number-weighted single-dot expectations: yields, g2(0), lifetime, detected count rate.

    Per bin: an on-state dot (QY_X,on), QY_XX with the material's Auger scaling (cube or
    sphere volume, shell slowdown) and k_nr,XX = s k_nr,X; g2(0) with the multiexciton
    ladder at the chosen <N> (`simulator.dot`). Count rate: detected clicks per second of
    one dot on the HBT setup (collection x detection efficiency, blinking on fraction, off
    state brightened by thick shells) plus dark counts; pulsed at rep_rate_mhz, cw at
    <N> / tau_X excitations per second (saturation at XX).
    """
    nan = float("nan")
    nsum = float(n_molar.sum()) if n_molar.size else 0.0
    off_eta = off_state_brightness(h, shell_p.get("blink_suppression_length_nm")
                                           if shell_p is not None else None)
    out = {"exciton_qy_on": float(qy_on),
           "exciton_lifetime_ns": float(qy_on * ox["radiative_lifetime_ns"]),
           "off_state_brightness": off_eta}
    if nsum <= 0:
        out.update(mean_total_volume_nm3=0.0, biexciton_qy_mean=0.0, auger_time_ns=nan,
                   g2_zero_low_power=nan, g2_zero_expected=nan, count_rate_kcps=0.0)
        return out
    pw = n_molar / nsum
    vol = volume_nm3(d_core + 2.0 * h, ox["shape"])
    slow = shell_p.get("auger_slowdown_length_nm") if shell_p is not None and h > 0 else None
    tau_a = auger_time_ns(ox["auger_ps_per_nm3"], vol, h, slow)
    q_on = qy_on
    q_xx = biexciton_yield(q_on, ox["radiative_lifetime_ns"], tau_a,
                                   ox["biexciton_nr_scaling"])
    n_mean = float(c["excitation_mean"])
    mean_n, fact2 = pulsed_photon_moments(q_on, q_xx, n_mean, True)
    brightness = ON_FRACTION + (1.0 - ON_FRACTION) * off_eta
    p_det = PHOTON_COLLECTION_EFFICIENCY * DETECTOR_EFFICIENCY
    if c["photon_mode"] == "pulsed":
        rate_hz = float(c["rep_rate_mhz"]) * 1e6 * float(pw @ mean_n)
    else:
        k_x = 1.0 / (q_on * ox["radiative_lifetime_ns"])     # 1/ns
        k_xx = 4.0 / ox["radiative_lifetime_ns"] + 1.0 / tau_a + ox["biexciton_nr_scaling"] * (
            k_x - 1.0 / ox["radiative_lifetime_ns"])
        k_e = n_mean * k_x
        w_x, w_xx = k_e / k_x, (k_e / k_x) * (k_e / k_xx)
        s = 1.0 + w_x + w_xx
        rate_hz = 1e9 * float(pw @ ((q_on * k_x * w_x + q_xx * k_xx * w_xx) / s))
    out.update(
        mean_total_volume_nm3=float(pw @ vol),
        biexciton_qy_mean=float(pw @ q_xx),
        auger_time_ns=float(pw @ tau_a),
        g2_zero_low_power=float(pw @ (q_xx / q_on)),
        g2_zero_expected=float(pw @ (fact2 / mean_n**2)) if n_mean > 0 else nan,
        count_rate_kcps=(rate_hz * brightness * p_det + 2.0 * DARK_RATE_HZ) / 1e3,
    )
    return out
