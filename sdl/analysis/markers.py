"""Outcome markers in plain words: one sentence per `NoOutcome.reason`, for `sdl status`
and the report. A marker is recorded instead of a number when the measurement cannot
support one (see `sdl.analysis.score`); these sentences say why, for someone at the rig.
"""

from __future__ import annotations

#: reason -> one plain-language sentence. Every reason the analysis can give is here
#: (tests/analysis/test_markers.py checks it against the source).
MARKERS: dict[str, str] = {
    "flat_spectrum": "no band stands out from the noise: the sample gave no usable signal "
                     "(no particles, or too dilute)",
    "no_peak": "the signal rises towards the edge of the window but has no peak inside it "
               "(the band lies outside the measured range)",
    "fit_failed": "a band is there but its shape could not be measured cleanly (no clean "
                  "half-maximum on both sides, or the fit did not converge)",
    "too_few_pixels": "too few spectrometer pixels in the window to measure a band",
    "saturated": "the detector was at full scale: shorten the integration time or dilute",
    "bad_counts": "the absorbance counts are inconsistent (reference not above dark)",
    "bad_shape": "the spectra have a different number of pixels than the wavelength axis",
    "non_finite": "the spectra contain NaN or infinite values",
    "no_red_edge": "the absorption peak has no measurable red edge, so no size spread",
    "out_of_range": "the absorption peak lies outside the range the sizing curve is valid for",
    "unknown_material": "no sizing curve for this material, so no size",
    "no_extinction_data": "no extinction coefficient for this material, so no "
                          "concentration or yield",
    "narrower_than_homogeneous": "the 1S line is narrower than one dot's own line width, so "
                                 "no size spread can be taken from it",
    "no_pl_band": "no PL band stands out from the noise, so there is no quantum yield to "
                  "give (a yield of noise would be made up)",
    "no_absorbance_at_excitation": "the sample absorbs too little at the excitation "
                                   "wavelength to measure, so its quantum yield cannot be "
                                   "computed",
    "weak_absorbance_at_excitation": "the sample emits, but absorbs too little at the "
                                     "excitation wavelength to measure: PLQY needs a "
                                     "longer path, less dilution or a bluer excitation",
    "opaque_at_excitation": "the sample absorbs (almost) all excitation light: dilute it "
                            "to measure its quantum yield",
    "excitation_outside_range": "the excitation wavelength lies outside the spectrometer "
                                "range, so absorbance there is unknown",
    "no_reference_signal": "the reference dye gave no PL above noise: check the reference "
                           "cell and the lamp",
    "bad_reference": "the reference dye's absorbance, yield or solvent index is not positive",
    "no_photons": "no photon stream was recorded for this experiment",
    "no_emission": "the sample does not emit (no PL band), so its photon statistics would "
                   "describe background light, not the dots",
    "too_few_counts": "too few photon coincidences to measure g2(0): acquire longer or "
                      "excite harder",
    "g2_unavailable": "the photon analysis is not installed",
    "bands_overlap": "the Mn and exciton bands overlap too much to separate (or there is no "
                     "Mn band)",
    "no_exciton_band": "the host exciton band is too weak to measure, so no Mn/exciton ratio",
    "unknown_outcome": "the analysis cannot produce this outcome",
    "not_measured": "the lab reported this outcome as not measured (reason in the record)",
    "not_modelled": "this outcome is not produced for this measurement",
}
#: Markers with a variable part after ':' (e.g. "failure:clog", "missing_metadata:key").
PREFIXES: dict[str, str] = {
    "failure": "the experiment failed on the rig ({}); nothing was measured",
    "missing_metadata": "the measurement lacks the metadata '{}' that this outcome needs",
}


def explain(marker: str) -> str:
    """The plain-language sentence for a marker (an honest fallback for unknown ones)."""
    if marker in MARKERS:
        return MARKERS[marker]
    head, _, rest = marker.partition(":")
    if rest and head in PREFIXES:
        return PREFIXES[head].format(rest)
    return f"no value ({marker}): see the record for the detail"
