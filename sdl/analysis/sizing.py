"""Sizing curves as data: 1S peak -> diameter, extinction, concentration, spread, yield.

The curves live in `sizing_curves.toml` next to this module, each with its source
(Yu, Qu, Guo, Peng, Chem. Mater. 15, 2854 (2003) for CdSe/CdTe/CdS; Moreels et al.,
ACS Nano 3, 3023 (2009) for PbS; a documented calibration for CsPbBr3 and a Brus curve
for ZnSe, see the file). Pure functions; no numba.

Derived quantities (DOMAIN.md §4-5, §8):
- molar concentration of dots, Beer-Lambert at the 1S peak: `c = A_1S / (eps_1S L)`, with
  eps_1S the peak extinction of one dot's 1S line (width `abs_line_fwhm_mev`). An
  ensemble broadened by size spread spreads the same line area over a wider band, so its
  peak absorbance is lowered by FWHM_line / FWHM_1S (exact for Gaussian lines); when the
  1S width is known the peak absorbance is scaled back up by FWHM_1S / FWHM_line (the
  line-width correction Yu et al. 2003 recommend for broad samples);
- size spread from the 1S width: `FWHM_1S^2 = FWHM_line^2 + (2.355 |dE/dD| sigma_D)^2`
  (DOMAIN.md §5), with `FWHM_1S = 2 HWHM_red` (the low-energy half of the band, away from
  higher transitions), so `sigma_D / D = sqrt(FWHM_1S^2 - FWHM_line^2) / (2.355 |dE/dD| D)`;
- chemical yield: metal in dots over metal fed,
  `Y = c * dilution * N_metal(D) / feed_metal_molar`.
Standard errors are propagated to first order (delta method) from the inputs.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.vocab.constants import HC_EV_NM

#: hbar^2 pi^2 / (2 m0), eV nm^2 (CODATA 2018).
_KINETIC_EV_NM2 = 0.376030
#: e^2 / (4 pi eps0), eV nm.
_COULOMB_EV_NM = 1.439964
#: 2 sqrt(2 ln 2): FWHM / sigma of a Gaussian.
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True, eq=False)
class SizingCurve:
    """One material's sizing data (see `sizing_curves.toml` for the fields' meaning)."""

    material: str
    relation: str
    params: dict
    valid_nm: tuple[float, float]
    source: str
    eps_prefactor: float | None
    eps_exponent: float | None
    shape: str
    metal: str
    metal_atoms_per_nm3: float
    abs_line_fwhm_mev: float

    # ---------------------------------------------------------------- forward curves
    def energy_ev(self, diameter_nm: float | np.ndarray) -> float | np.ndarray:
        """1S transition energy, eV, of dots of diameter `diameter_nm` (edge for cubes)."""
        d = np.asarray(diameter_nm, dtype=np.float64)
        p = self.params
        if self.relation == "poly_lambda":
            return HC_EV_NM / self.peak_nm(d)
        if self.relation == "inverse_poly":
            return p["eg_ev"] + 1.0 / (p["a"] * d * d + p["b"] * d)
        if self.relation == "brus":
            r = d / 2.0
            return (p["eg_ev"] + _KINETIC_EV_NM2 / (r * r) * (1.0 / p["me"] + 1.0 / p["mh"])
                    - 1.786 * _COULOMB_EV_NM / (p["eps_r"] * r))
        raise ValueError(f"unknown relation {self.relation!r}")

    def diameter_nm(self, peak_nm: float | np.ndarray) -> float | np.ndarray:
        """Diameter (nm) of dots whose 1S absorption peak is at `peak_nm` (nm)."""
        lam = np.asarray(peak_nm, dtype=np.float64)
        if self.relation == "poly_lambda":
            c = self.params["coefficients"]
            if lam.ndim == 0:
                x = float(lam)
                acc = 0.0
                for coef in reversed(c):
                    acc = acc * x + coef
                return acc
            return np.polynomial.polynomial.polyval(lam, c)
        lam_t, d_t = self._table()
        return np.interp(lam, lam_t, d_t, left=np.nan, right=np.nan)

    def peak_nm(self, diameter_nm: float | np.ndarray) -> float | np.ndarray:
        """1S absorption peak wavelength (nm) of dots of the given diameter (nm)."""
        d = np.asarray(diameter_nm, dtype=np.float64)
        if self.relation == "poly_lambda":
            lam_t, d_t = self._table()
            return np.interp(d, d_t, lam_t, left=np.nan, right=np.nan)
        return HC_EV_NM / self.energy_ev(d)

    def d_diameter_d_lambda(self, peak_nm: float) -> float:
        """dD/dlambda at a 1S wavelength, nm per nm."""
        if self.relation == "poly_lambda":
            dc = self.params["coefficients"]
            # derivative of sum c_k x^k, Horner form
            x = float(peak_nm)
            acc = 0.0
            for k in range(len(dc) - 1, 0, -1):
                acc = acc * x + k * dc[k]
            return acc
        h = 1e-3 * peak_nm
        return float((self.diameter_nm(peak_nm + h) - self.diameter_nm(peak_nm - h)) / (2 * h))

    def eps_1s(self, diameter_nm: float) -> float | None:
        """Molar extinction coefficient at the 1S peak, M^-1 cm^-1, or None if unknown."""
        if self.eps_prefactor is None or self.eps_exponent is None:
            return None
        return float(self.eps_prefactor * diameter_nm**self.eps_exponent)

    def volume_nm3(self, diameter_nm: float) -> float:
        """Dot volume, nm^3: sphere pi D^3 / 6, or cube D^3."""
        if self.shape == "cube":
            return float(diameter_nm**3)
        return float(math.pi * diameter_nm**3 / 6.0)

    def metal_atoms_per_dot(self, diameter_nm: float) -> float:
        """Metal cations per dot: crystal cation density times volume."""
        return self.metal_atoms_per_nm3 * self.volume_nm3(diameter_nm)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_inverse", None)

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense monotonic (lambda increasing, D) table over a wide range, for inversion."""
        if self._inverse is None:
            object.__setattr__(self, "_inverse", self._build_table())
        return self._inverse

    def _build_table(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.valid_nm
        if self.relation == "poly_lambda":
            lam = np.linspace(lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo), 4001)
            d = np.polynomial.polynomial.polyval(lam, self.params["coefficients"])
        else:
            d = np.geomspace(0.8, 40.0, 6001)
            lam = HC_EV_NM / self.energy_ev(d)
            order = np.argsort(lam)
            lam, d = lam[order], d[order]
        keep = np.concatenate(([True], np.diff(lam) > 0)) & np.isfinite(lam) & (lam > 0)
        lam, d = lam[keep], d[keep]
        # keep the branch where D rises with lambda
        good = np.concatenate(([True], np.diff(d) > 0))
        return lam[good], d[good]


@lru_cache(maxsize=1)
def load_sizing_curves() -> dict[str, SizingCurve]:
    """All sizing curves from `sizing_curves.toml`, keyed by material (aliases included)."""
    text = resources.files("sdl.analysis").joinpath("sizing_curves.toml").read_text()
    data = tomllib.loads(text)
    aliases = data.pop("aliases", {})
    curves: dict[str, SizingCurve] = {}
    for name, t in data.items():
        params = {k: t[k] for k in ("coefficients", "eg_ev", "a", "b", "me", "mh", "eps_r")
                  if k in t}
        curves[name] = SizingCurve(
            material=name,
            relation=t["relation"],
            params=params,
            valid_nm=(float(t["valid_nm"][0]), float(t["valid_nm"][1])),
            source=t["source"],
            eps_prefactor=t.get("eps_prefactor"),
            eps_exponent=t.get("eps_exponent"),
            shape=t.get("shape", "sphere"),
            metal=t["metal"],
            metal_atoms_per_nm3=float(t["metal_atoms_per_nm3"]),
            abs_line_fwhm_mev=float(t["abs_line_fwhm_mev"]),
        )
    for alias, target in aliases.items():
        curves[alias] = curves[target]
    return curves


def sizing_curve(material: str) -> SizingCurve | NoOutcome:
    """The sizing curve of `material` ("CdSe", "CsPbBr3", "Mn:ZnSe", ...), or NoOutcome."""
    curve = load_sizing_curves().get(material)
    if curve is None:
        return NoOutcome("unknown_material", f"no sizing curve for {material!r}")
    return curve


def diameter_from_peak(curve: SizingCurve, peak_nm: Estimate) -> Estimate | NoOutcome:
    """Mean diameter from the 1S peak wavelength.

    Args:
        curve: the material's sizing curve.
        peak_nm: 1S absorption peak, nm, with its standard error.

    Returns:
        Diameter in nm (edge length for cubes), or NoOutcome("out_of_range") when the
        peak lies outside the curve's trusted range `valid_nm`.
    """
    lo, hi = curve.valid_nm
    if not lo <= peak_nm.value <= hi:
        return NoOutcome(
            "out_of_range",
            f"1S peak {peak_nm.value:.1f} nm outside the {curve.material} sizing range "
            f"[{lo:.0f}, {hi:.0f}] nm",
        )
    d = float(curve.diameter_nm(peak_nm.value))
    slope = curve.d_diameter_d_lambda(peak_nm.value)
    return Estimate(d, abs(slope) * peak_nm.stderr)


def molar_concentration(
    curve: SizingCurve,
    absorbance_1s: Estimate,
    diameter: Estimate,
    path_length_cm: float,
    *,
    fwhm_1s_ev: Estimate | None = None,
) -> Estimate | NoOutcome:
    """Molar concentration of dots in the measured solution, `c = A / (eps_1S L)`.

    Args:
        curve: sizing curve (gives eps_1S(D) = prefactor D^exponent).
        absorbance_1s: absorbance at the 1S peak.
        diameter: mean diameter, nm.
        path_length_cm: optical path length, cm (> 0).
        fwhm_1s_ev: ensemble 1S FWHM, eV; when given and wider than the single-dot line
            (`abs_line_fwhm_mev`), A is scaled by FWHM_1S / FWHM_line (line-area
            conservation). None: no correction.

    Returns:
        Concentration in mol/L, or NoOutcome("no_extinction_data").
    """
    eps = curve.eps_1s(diameter.value)
    if eps is None:
        return NoOutcome("no_extinction_data", f"no 1S extinction law for {curve.material}")
    a, se_a = _width_corrected(curve, absorbance_1s, fwhm_1s_ev)
    k = 1.0 / (eps * path_length_cm)
    c = a * k
    se = math.hypot(k * se_a, c * curve.eps_exponent * diameter.stderr / diameter.value)
    return Estimate(c, se)


def _width_corrected(curve: SizingCurve, a: Estimate, fwhm: Estimate | None) -> tuple[float, float]:
    """(corrected 1S absorbance, its standard error)."""
    line = curve.abs_line_fwhm_mev / 1000.0
    if fwhm is None or not fwhm.value > line:
        return a.value, a.stderr
    k = fwhm.value / line
    return a.value * k, math.hypot(k * a.stderr, a.value * fwhm.stderr / line)


def size_dispersion(
    curve: SizingCurve, peak_nm: Estimate, hwhm_red_ev: Estimate, diameter: Estimate
) -> Estimate | NoOutcome:
    """Relative size spread sigma_D / D from the red-side half width of the 1S band.

    Args:
        curve: sizing curve (gives dE/dD and the homogeneous width).
        peak_nm: 1S peak wavelength, nm.
        hwhm_red_ev: half width at half maximum on the low-energy side, eV.
        diameter: mean diameter, nm.

    Returns:
        sigma_D / D (dimensionless). When the measured width does not exceed the
        homogeneous width the spread is unresolved: value 0, with the spread a line
        2 sigma wider would imply as its error; a line more than 2 sigma narrower than
        the homogeneous width gives NoOutcome("narrower_than_homogeneous").
    """
    lam = peak_nm.value
    # dE/dD = (dE/dlambda) / (dD/dlambda) = -(hc / lambda^2) / (dD/dlambda)
    de_dd = abs(HC_EV_NM / lam**2 / curve.d_diameter_d_lambda(lam))
    fwhm = 2.0 * hwhm_red_ev.value
    se_fwhm = 2.0 * hwhm_red_ev.stderr
    hom = curve.abs_line_fwhm_mev / 1000.0
    excess2 = fwhm * fwhm - hom * hom
    scale = FWHM_PER_SIGMA * de_dd * diameter.value
    if excess2 <= 0:
        if fwhm + 2.0 * se_fwhm < hom:
            return NoOutcome(
                "narrower_than_homogeneous",
                f"1S FWHM {1000 * fwhm:.0f} meV is below the {curve.material} homogeneous "
                f"1S line width {1000 * hom:.0f} meV",
            )
        # unresolved: zero, with the spread a 2-sigma wider line would imply as its error
        up = (fwhm + 2.0 * se_fwhm) ** 2 - hom * hom
        return Estimate(0.0, math.sqrt(max(up, 0.0)) / scale)
    excess = math.sqrt(excess2)
    value = excess / scale
    se_excess = fwhm * se_fwhm / excess
    rel = math.hypot(se_excess / excess, diameter.stderr / diameter.value)
    return Estimate(value, value * rel)


def chemical_yield(
    curve: SizingCurve,
    absorbance_1s: Estimate,
    diameter: Estimate,
    path_length_cm: float,
    dilution: float,
    feed_metal_molar: float,
    *,
    fwhm_1s_ev: Estimate | None = None,
) -> Estimate | NoOutcome:
    """Fraction of the fed metal that ended up in dots.

    `Y = c * dilution * N_metal(D) / feed_metal_molar` with `c = A_1S / (eps_1S(D) L)`
    (line-width corrected, see `molar_concentration`) and N_metal = cation density x
    volume. Since eps_1S ~ D^b and N_metal ~ D^3, the diameter error enters as
    (3 - b) sigma_D / D (one correlated term, not two).

    Args:
        curve: sizing curve (extinction law, cation density, shape).
        absorbance_1s: absorbance at the 1S peak in the flow cell.
        diameter: mean diameter, nm.
        path_length_cm: optical path, cm.
        dilution: dilution factor applied before the flow cell (>= 1 means diluted).
        feed_metal_molar: metal concentration fed to the reactor, mol/L.
        fwhm_1s_ev: ensemble 1S FWHM, eV, for the line-width correction (None: none).

    Returns:
        The yield (0..1 for a physical measurement; not clipped), or
        NoOutcome("no_extinction_data").
    """
    c = molar_concentration(curve, absorbance_1s, Estimate(diameter.value, 0.0), path_length_cm,
                            fwhm_1s_ev=fwhm_1s_ev)
    if isinstance(c, NoOutcome):
        return c
    n_metal = curve.metal_atoms_per_dot(diameter.value)
    k = dilution * n_metal / feed_metal_molar
    y = c.value * k
    exponent = 3.0 - float(curve.eps_exponent)
    se = math.hypot(k * c.stderr, y * exponent * diameter.stderr / diameter.value)
    return Estimate(y, se)
