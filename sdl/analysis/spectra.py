"""Spectral core, one import: absorbance, peaks, sizing, PLQY, dopant ratio, scoring.

The work is split by concept into `absorbance`, `exciton_peak`, `pl_band`
(kernels in `spectral_kernels`), `sizing` (+ `sizing_curves.toml`),
`plqy`, `dopant`, `csvio` and `score`; this module re-exports their public API.
"""

from __future__ import annotations

from sdl.analysis.absorbance import (
    NO_LIGHT,
    OPAQUE,
    SATURATED,
    AbsorbanceSpectrum,
    absorbance_from_counts,
    absorptance,
)
from sdl.analysis.dopant import mn_exciton_ratio
from sdl.analysis.exciton_peak import ExcitonPeak, first_exciton_peak
from sdl.analysis.pl_band import PlBand, pl_band
from sdl.analysis.plqy import absorptance_estimate, integrated_counts, relative_plqy
from sdl.analysis.score import SPECTRAL_OUTCOMES, score
from sdl.analysis.sizing import (
    SizingCurve,
    chemical_yield,
    diameter_from_peak,
    load_sizing_curves,
    molar_concentration,
    size_dispersion,
    sizing_curve,
)
from sdl.analysis.spectral_kernels import wavelength_to_energy

__all__ = [
    "NO_LIGHT",
    "OPAQUE",
    "SATURATED",
    "SPECTRAL_OUTCOMES",
    "AbsorbanceSpectrum",
    "ExcitonPeak",
    "PlBand",
    "SizingCurve",
    "absorbance_from_counts",
    "absorptance",
    "absorptance_estimate",
    "chemical_yield",
    "diameter_from_peak",
    "first_exciton_peak",
    "integrated_counts",
    "load_sizing_curves",
    "mn_exciton_ratio",
    "molar_concentration",
    "pl_band",
    "relative_plqy",
    "score",
    "size_dispersion",
    "sizing_curve",
    "wavelength_to_energy",
]
