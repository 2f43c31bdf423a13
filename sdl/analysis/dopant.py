"""Dopant (Mn2+) to exciton PL band area ratio, `mn_ratio`.

Mn2+ d-d emission is a ~0.2 eV wide band near 585-600 nm, nearly size independent, seen
when the host exciton lies above ~2.1 eV (ZnSe, ZnS, CsPbCl3) [DOMAIN.md §6; Kagan et
al., Chem. Rev. 121, 3186 (2021)]. Each band's area is its Gaussian-equivalent area
(fitted peak density x FWHM x sqrt(pi / 4 ln 2), in photons, see `pl_band.PlBand`), which
keeps a broad trap-emission band lying between them out of both. The metric is
`area(Mn) / area(exciton)`. When no Mn band is detectable the Mn area is the plain sum
of counts in the Mn window (about zero, with its Poisson error), so an undoped sample
scores ~0 rather than no outcome.
"""

from __future__ import annotations

import math

import numpy as np

from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.measurement import HC_EV_NM
from sdl.analysis.pl_band import pl_band

#: Mn2+ 4T1 -> 6A1 emission centre, nm (DOMAIN.md §6: 585-600 nm).
MN_BAND_NM = 590.0
#: Mn band FWHM, eV (DOMAIN.md §6).
MN_BAND_FWHM_EV = 0.2
#: The exciton peak must lie at least this far (eV) above the Mn band for a split.
MIN_SEPARATION_EV = 0.25
#: Half width of the window searched for the Mn band, eV (1.5 x its FWHM).
MN_WINDOW_HALF_EV = 0.3


def mn_exciton_ratio(
    wavelengths_nm: np.ndarray,
    net_counts: np.ndarray,
    variance: np.ndarray,
    exciton_peak_nm: float,
    *,
    low_nm: float = -math.inf,
    mn_band_nm: float = MN_BAND_NM,
    min_significance: float = 5.0,
) -> Estimate | NoOutcome:
    """Ratio of the Mn band area to the host exciton band area.

    Args:
        wavelengths_nm: (P,) increasing pixel wavelengths, nm.
        net_counts: (P,) dark-subtracted PL counts.
        variance: (P,) variance of net_counts.
        exciton_peak_nm: host exciton PL peak, nm (from `peaks.pl_band`).
        low_nm: shortest wavelength used (above the excitation line), nm.
        mn_band_nm: nominal Mn band centre, nm.
        min_significance: the exciton area must exceed this many standard errors.

    Returns:
        Area ratio with its standard error (~0 for an undoped sample), or NoOutcome
        "bands_overlap" (exciton too close to the Mn band), "no_exciton_band".
    """
    e_mn = HC_EV_NM / mn_band_nm
    e_x = HC_EV_NM / exciton_peak_nm
    if e_x - e_mn < MIN_SEPARATION_EV:
        return NoOutcome("bands_overlap",
                         f"exciton at {exciton_peak_nm:.0f} nm is too close to the Mn band")
    wl = np.asarray(wavelengths_nm, dtype=np.float64)
    y = np.asarray(net_counts, dtype=np.float64)
    v = np.asarray(variance, dtype=np.float64)
    # exciton window: up to halfway (in energy) between the exciton and the Mn band
    split_nm = HC_EV_NM / (0.5 * (e_x + e_mn))
    x_band = pl_band(wl, y, v, range_nm=(low_nm, split_nm))
    if isinstance(x_band, NoOutcome):
        return NoOutcome("no_exciton_band", f"exciton band not measurable: {x_band.reason}")
    ax = x_band.area_counts
    if not ax.value > min_significance * ax.stderr:
        return NoOutcome("no_exciton_band", "exciton band area not above noise")
    mn_lo = HC_EV_NM / (e_mn + MN_WINDOW_HALF_EV)
    mn_hi = HC_EV_NM / (e_mn - MN_WINDOW_HALF_EV)
    m_band = pl_band(wl, y, v, range_nm=(max(mn_lo, split_nm), mn_hi))
    if isinstance(m_band, NoOutcome):
        keep = (wl >= max(mn_lo, split_nm)) & (wl <= mn_hi)
        am = Estimate(float(np.sum(y[keep])), float(np.sqrt(np.sum(v[keep]))))
    else:
        am = m_band.area_counts
    ratio = am.value / ax.value
    se = math.sqrt((am.stderr / ax.value) ** 2 + (ratio * ax.stderr / ax.value) ** 2)
    return Estimate(ratio, se)
