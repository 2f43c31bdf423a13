"""Dopant (Mn2+) to exciton PL band area ratio, `mn_ratio`.

Mn2+ d-d emission is a ~0.2 eV wide band near 585-600 nm, nearly size independent, seen
when the host exciton lies above ~2.1 eV (ZnSe, ZnS, CsPbCl3) [DOMAIN.md §6; Kagan et
al., Chem. Rev. 121, 3186 (2021)]. With the host exciton band well to the blue, the two
bands are separated at the PL minimum between the exciton peak and the Mn band; each
area is the sum of dark-subtracted counts on its side (photons detected), with Poisson
errors. The metric is `area(Mn) / area(exciton)`.
"""

from __future__ import annotations

import math

import numpy as np

from sdl.analysis.estimate import Estimate, NoOutcome

#: Mn2+ 4T1 -> 6A1 emission centre, nm (DOMAIN.md §6: 585-600 nm).
MN_BAND_NM = 590.0
#: Mn band FWHM, eV (DOMAIN.md §6).
MN_BAND_FWHM_EV = 0.2
#: The exciton peak must lie at least this far (eV) above the Mn band for a split.
MIN_SEPARATION_EV = 0.25


def mn_exciton_ratio(
    wavelengths_nm: np.ndarray,
    net_counts: np.ndarray,
    variance: np.ndarray,
    exciton_peak_nm: float,
    *,
    low_nm: float = -math.inf,
    mn_band_nm: float = MN_BAND_NM,
    smooth_px: int = 9,
    min_significance: float = 5.0,
) -> Estimate | NoOutcome:
    """Ratio of the Mn band area to the exciton band area.

    Args:
        wavelengths_nm: (P,) increasing pixel wavelengths, nm.
        net_counts: (P,) dark-subtracted PL counts.
        variance: (P,) variance of net_counts.
        exciton_peak_nm: host exciton PL peak, nm.
        low_nm: shortest wavelength counted (above the excitation line), nm.
        mn_band_nm: Mn band centre, nm.
        smooth_px: boxcar width (pixels) used only to locate the minimum between bands.
        min_significance: the exciton area must exceed this many standard errors.

    Returns:
        Area ratio with its standard error (may be ~0 for an undoped sample), or
        NoOutcome "bands_overlap" (exciton too close to the Mn band) or
        "no_exciton_band".
    """
    hc = 1239.8419843320026
    if hc / exciton_peak_nm - hc / mn_band_nm < MIN_SEPARATION_EV:
        return NoOutcome("bands_overlap",
                         f"exciton at {exciton_peak_nm:.0f} nm is too close to the Mn band")
    wl = np.asarray(wavelengths_nm, dtype=np.float64)
    y = np.asarray(net_counts, dtype=np.float64)
    v = np.asarray(variance, dtype=np.float64)
    # boundary: minimum of the smoothed PL between the exciton peak and the Mn band's
    # blue half-maximum (centre minus the half width, converted to nm)
    mn_blue_nm = hc / (hc / mn_band_nm + MN_BAND_FWHM_EV / 2.0)
    between = np.flatnonzero((wl >= exciton_peak_nm) & (wl <= mn_blue_nm))
    if between.size == 0:
        return NoOutcome("bands_overlap", "no pixels between the exciton and Mn bands")
    k = max(1, int(smooth_px))
    smooth = np.convolve(y, np.ones(k) / k, mode="same")
    cut = int(between[np.argmin(smooth[between])])
    exc = (wl >= low_nm) & (np.arange(wl.size) < cut)
    mn = np.arange(wl.size) >= cut
    a_x = float(np.sum(y[exc]))
    v_x = float(np.sum(v[exc]))
    a_m = float(np.sum(y[mn]))
    v_m = float(np.sum(v[mn]))
    if not a_x > min_significance * math.sqrt(v_x):
        return NoOutcome("no_exciton_band", "exciton band area not above noise")
    ratio = a_m / a_x
    se = math.sqrt(v_m / a_x**2 + ratio**2 * v_x / a_x**2)
    return Estimate(ratio, se)
