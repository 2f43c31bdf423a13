"""Units and plain-words explanations of every outcome and term the report and the
dashboard show, so no page speaks in abstractions.

`UNITS[name]` is the unit string of an outcome ("" for a dimensionless ratio);
`PLAIN[name]` is one line a chemist reads without a glossary. `axis_label(objective)`
is the label of an objective trace: for a target objective the distance to the target
(same unit), otherwise the outcome itself.
"""

from __future__ import annotations

from typing import Any

UNITS: dict[str, str] = {
    "abs_peak_nm": "nm",
    "pl_peak_nm": "nm",
    "fwhm_nm": "nm",
    "fwhm_mev": "meV",
    "plqy": "fraction",
    "diameter_nm": "nm",
    "size_dispersion": "σD/D",
    "g2_zero": "",
    "mn_ratio": "",
    "yield": "fraction",
    "count_rate_kcps": "kcps",
}

PLAIN: dict[str, str] = {
    "abs_peak_nm": "wavelength of the first absorption peak; it sets the dot size",
    "pl_peak_nm": "colour of the emitted light (wavelength of the emission peak)",
    "fwhm_nm": "width of the emission line at half height; narrower = purer colour, "
               "more uniform dots",
    "fwhm_mev": "width of the emission line in energy units",
    "plqy": "fraction of absorbed photons given back as light (1 = every photon)",
    "diameter_nm": "mean dot diameter from the absorption peak (sizing curve)",
    "size_dispersion": "spread of dot sizes relative to the mean size",
    "g2_zero": "photon antibunching: below 0.5 the dot emits one photon at a time "
               "(0 = perfect single-photon source)",
    "mn_ratio": "how much light comes from the Mn dopant relative to the dot's own band",
    "yield": "fraction of the metal fed in that ended up in dots",
    "count_rate_kcps": "brightness of one dot: photons detected per second (thousands) at the "
                       "chosen laser power",
}

TERMS: dict[str, str] = {
    "best so far": "the best value any experiment reached up to that point",
    "distance to target": "how far the outcome was from the set point (same unit)",
    "Pareto front": "experiments no other experiment beats on both objectives at once: "
                    "the best trade-offs",
    "model slice": "the fitted model's prediction when one parameter moves and the others "
                   "stay at the best experiment; the band is ± 2 standard deviations",
    "parameter importance": "how strongly each parameter changes the prediction "
                            "(inverse of the model's fitted length scale, normalised to 1)",
    "leave-one-out": "each experiment predicted by a model fitted without it; points on "
                     "the diagonal mean the model predicts well",
    "predicted optimum": "the best point the model expects, with its ± 2 SD band",
    "stderr": "standard error of the measured value (± 1 SD of the estimate)",
    "failed": "no usable sample: clog, equipment fault, interlock or safety rejection",
}


def unit(name: str) -> str:
    return UNITS.get(name, "")


def with_unit(name: str) -> str:
    """'fwhm_nm (nm)'; the bare name for dimensionless outcomes."""
    u = unit(name)
    return f"{name} ({u})" if u else name


def axis_label(objective: Any) -> str:
    """Label of an objective trace in physical units."""
    u = unit(objective.name)
    if objective.goal == "target":
        return f"|{objective.name} − {objective.target:g}|" + (f" ({u})" if u else "")
    return with_unit(objective.name)


def goal_words(objective: Any) -> str:
    if objective.goal == "target":
        return f"target {objective.target:g} ± {objective.tolerance:g} {unit(objective.name)}".rstrip()
    return "lower is better" if objective.goal == "minimize" else "higher is better"
