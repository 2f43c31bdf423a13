"""Semantic checks of a campaign: can this material, analysis and instrument give what the
campaign asks for? A schema-valid file can still waste a night (a 2000 nm target, an
Mn/exciton ratio on undoped CdSe, a halide ratio varied on a selenide). Each problem is
one line naming the field, the value and what is allowed; `check_campaign` raises one
`CampaignError` (exit 2) carrying them all. Run by `sdl validate`, `sdl run` and
`Campaign.start` on new campaigns only: records of past runs load without them.

The tables below are data about the materials and the instrument, kept here (not read
from the simulator) because they describe what the *analysis* and a *real rig* can give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sdl.errors import CampaignError
from sdl.schema.campaign import Campaign

#: Wavelength range of the inline spectrometer, nm: Ocean Insight STS-VIS (350-800 nm
#: specified; its calibration polynomial, as emulated in hardware/emulators/world.py, spans
#: 350.0-806.0 nm over 1024 pixels). Peak wavelengths outside it cannot be measured.
SPECTROMETER_RANGE_NM = (350.0, 806.0)


@dataclass(frozen=True)
class OutcomeRange:
    """What an outcome can be for a material, with where the numbers come from."""

    low: float
    high: float
    unit: str
    source: str


_PL_SRC = "bulk gap and the smallest stable dots of the material"
#: Per-material ranges an outcome can take. Sources: CdSe bulk gap 1.74 eV (713 nm) and
#: 1S peaks of 1.5-8 nm dots at ~430-690 nm (Yu, Qu, Guo, Peng, Chem. Mater. 15, 2854
#: (2003)); CsPbX3 PL tunable 410-700 nm across Cl/Br/I by halide exchange (Protesescu
#: et al., Nano Lett. 15, 3692 (2015)); ZnSe exciton 2.70 eV bulk (459 nm), dots
#: absorbing 360-420 nm (Hines & Guyot-Sionnest, J. Phys. Chem. B 102, 3655 (1998)); for
#: Mn:ZnSe the PL band outcomes describe the host exciton, searched blue of 540 nm
#: (sdl.analysis.score.DOPED_EXCITON_MAX_NM). Widths: ensemble PL FWHM from ~20 nm
#: (narrow CsPbBr3) to ~150 nm (broad, polydisperse). Outcomes not listed per material use
#: ANY_MATERIAL.
MATERIAL_RANGES: dict[str, dict[str, OutcomeRange]] = {
    "CdSe": {
        "abs_peak_nm": OutcomeRange(400.0, 710.0, "nm", "CdSe 1S: Yu et al. 2003; bulk 1.74 eV"),
        "pl_peak_nm": OutcomeRange(420.0, 730.0, "nm", f"CdSe (+ shells): {_PL_SRC}"),
        "diameter_nm": OutcomeRange(1.0, 12.0, "nm", "CdSe sizing curve, Yu et al. 2003"),
    },
    "CsPbBr3": {
        "abs_peak_nm": OutcomeRange(390.0, 700.0, "nm", "CsPbX3, Protesescu et al. 2015"),
        "pl_peak_nm": OutcomeRange(400.0, 710.0, "nm", "CsPbX3, Protesescu et al. 2015"),
        "diameter_nm": OutcomeRange(2.0, 25.0, "nm", "CsPbBr3 sizing curve (sizing_curves.toml)"),
    },
    "Mn:ZnSe": {
        "abs_peak_nm": OutcomeRange(350.0, 470.0, "nm", "ZnSe: Hines & Guyot-Sionnest 1998"),
        "pl_peak_nm": OutcomeRange(350.0, 540.0, "nm", "host exciton band, blue of 540 nm"),
        "diameter_nm": OutcomeRange(1.0, 12.0, "nm", "ZnSe sizing curve (sizing_curves.toml)"),
    },
}
ANY_MATERIAL: dict[str, OutcomeRange] = {
    "fwhm_nm": OutcomeRange(5.0, 200.0, "nm", "ensemble PL widths"),
    "fwhm_mev": OutcomeRange(20.0, 800.0, "meV", "ensemble PL widths"),
    "plqy": OutcomeRange(0.0, 1.0, "", "a quantum yield is a fraction"),
    "size_dispersion": OutcomeRange(0.0, 1.0, "", "relative spread sigma_D / D"),
    "yield": OutcomeRange(0.0, 1.0, "", "a chemical yield is a fraction"),
    "g2_zero": OutcomeRange(0.0, 2.0, "", "0 (single emitter) to 2 (thermal light); "
                            "Loudon, The Quantum Theory of Light (2000)"),
    "mn_ratio": OutcomeRange(0.0, math.inf, "", "a ratio of band areas"),
    "count_rate_kcps": OutcomeRange(0.0, math.inf, "kcps", "a detected photon rate"),
}

#: Outcomes the analysis can produce only for some materials (material prefix -> why).
OUTCOME_NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "mn_ratio": (("Mn:",), "the Mn/exciton ratio needs a Mn-doped material (Mn:ZnSe); an "
                 "undoped material has no Mn band"),
}

#: Conditions each material's chemistry does not use: varying one only adds a dimension
#: the optimiser cannot learn from. CdSe: a selenide (no halide, no dopant, no halide
#: exchange); CsPbBr3: a halide perovskite (no selenium, no dopant, no shell stage);
#: Mn:ZnSe: a doped selenide (no halide, no halide exchange).
IGNORED_CONDITIONS: dict[str, dict[str, str]] = {
    "CdSe": {"br_to_pb": "a halide ratio for lead perovskites",
             "dopant_feed_fraction": "a dopant feed (undoped CdSe)",
             "exchange_fraction": "halide exchange (perovskites only)",
             "exchange_halide": "halide exchange (perovskites only)"},
    "CsPbBr3": {"se_to_cd": "a selenium ratio (no selenium in CsPbBr3)",
                "dopant_feed_fraction": "a dopant feed (undoped CsPbBr3)",
                "shell_monolayers": "a shell dose (no shell stage for CsPbBr3)"},
    "Mn:ZnSe": {"br_to_pb": "a halide ratio for lead perovskites",
                "exchange_fraction": "halide exchange (perovskites only)",
                "exchange_halide": "halide exchange (perovskites only)"},
}
#: Conditions that set the photon acquisition: they matter only when g2_zero is measured.
PHOTON_CONDITIONS = ("excitation_mean", "rep_rate_mhz", "photon_mode", "acquisition_s")


def outcome_range(material: str, outcome: str) -> OutcomeRange | None:
    """The range `outcome` can take for `material`, clipped to the spectrometer for
    wavelengths; None if unbounded."""
    r = MATERIAL_RANGES.get(material, {}).get(outcome) or ANY_MATERIAL.get(outcome)
    if r is None:
        return None
    if outcome in ("abs_peak_nm", "pl_peak_nm"):
        lo, hi = SPECTROMETER_RANGE_NM
        return OutcomeRange(max(r.low, lo), min(r.high, hi), r.unit,
                            f"{r.source}; spectrometer {lo:g}-{hi:g} nm")
    return r


def _allowed(r: OutcomeRange) -> str:
    hi = "" if math.isinf(r.high) else f"{r.high:g}"
    unit = f" {r.unit}" if r.unit else ""
    return f"{r.low:g}-{hi}{unit}" if hi else f">= {r.low:g}{unit}"


def semantic_problems(c: Campaign, *, budget: int | None = None) -> list[str]:
    """Every semantic problem of campaign `c`, one line each (field = value: why; allowed).

    Args:
        budget: the experiment budget in force if it overrides the file's (`--budget`).
    """
    material = c.campaign.material
    out: list[str] = []
    for i, o in enumerate(c.objectives):
        out += _producible(material, f"objectives[{i}].name", o.name)
        r = outcome_range(material, o.name)
        if o.goal == "target" and r is not None and o.target is not None \
                and not r.low <= o.target <= r.high:
            out.append(f"objectives[{i}].target = {o.target:g}: {material} cannot give "
                       f"{o.name} there; allowed: {_allowed(r)} ({r.source})")
    for i, k in enumerate(c.constraints):
        out += _producible(material, f"constraints[{i}].outcome", k.outcome)
        r = outcome_range(material, k.outcome)
        if r is None:
            continue
        if k.min is not None and k.min > r.high:
            out.append(f"constraints[{i}].min = {k.min:g}: no {material} sample can have "
                       f"{k.outcome} that high; allowed: {_allowed(r)} ({r.source})")
        if k.max is not None and k.max < r.low:
            out.append(f"constraints[{i}].max = {k.max:g}: no {material} sample can have "
                       f"{k.outcome} that low; allowed: {_allowed(r)} ({r.source})")
    ignored = IGNORED_CONDITIONS.get(material, {})
    photons = c.wants_photons
    for i, p in enumerate(c.parameters):
        if p.name in ignored:
            out.append(f"parameters[{i}].name = {p.name!r}: {material} ignores it "
                       f"({ignored[p.name]}); remove it from the parameters")
        elif p.name in PHOTON_CONDITIONS and not photons:
            out.append(f"parameters[{i}].name = {p.name!r}: it only sets the photon "
                       "acquisition, and this campaign does not measure g2_zero; remove it")
    if photons and not any(n == "acquisition_s" for n in [*c.fixed, *(p.name for p in c.parameters)]):
        photon_outcomes = ("g2_zero", "count_rate_kcps")
        sites = [(f"objectives[{i}].name", o.name) for i, o in enumerate(c.objectives)
                 if o.name in photon_outcomes]
        sites += [(f"constraints[{i}].outcome", k.outcome) for i, k in enumerate(c.constraints)
                  if k.outcome in photon_outcomes]
        where, what = sites[0]
        out.append(f"{where} = {what!r}: needs photon acquisition, which this campaign does "
                   "not set up; set fixed.acquisition_s (seconds of photon counting per "
                   "experiment, e.g. 30) or vary it as a parameter")
    if c.strategy.kind != "bo":
        bo_only = ["strategy.lab_time_aware = true"] if c.strategy.lab_time_aware else []
        if c.strategy.initial_design != "sobol":
            bo_only.append(f"strategy.initial_design = {c.strategy.initial_design!r}")
        out += [f"{what}: only Bayesian optimisation uses it, and strategy.kind = "
                f"{c.strategy.kind!r}; allowed: kind = \"bo\", or remove it" for what in bo_only]
    n = c.budget.experiments
    if c.strategy.kind == "bo" and budget is None and c.strategy.initial > n:
        out.append(f"strategy.initial = {c.strategy.initial}: more than budget.experiments "
                   f"= {n}, so the optimiser (BO) would never run; allowed: 1-{n}")
    return out


def _producible(material: str, field: str, outcome: str) -> list[str]:
    need = OUTCOME_NEEDS.get(outcome)
    if need is None or any(material.startswith(prefix) for prefix in need[0]):
        return []
    return [f"{field} = {outcome!r}: {material} cannot give it ({need[1]})"]


def check_campaign(c: Campaign, where: str, *, budget: int | None = None) -> None:
    """Raise `CampaignError` (exit 2) listing every semantic problem of `c`."""
    problems = semantic_problems(c, budget=budget)
    if problems:
        raise CampaignError(where, problems)


def check_campaign_with_rig(c: Campaign, rig: object, where: str) -> None:
    """Problems only a rig file can show: g2_zero needs a photon_timer device."""
    devices = getattr(rig, "devices", [])
    if c.wants_photons and not any(getattr(d, "role", None) == "photon_timer" for d in devices):
        raise CampaignError(where, ["the campaign measures g2_zero but the rig has no "
                                    "photon_timer device; add one to the rig file or drop "
                                    "g2_zero"])


def describe_ranges(material: str) -> Mapping[str, str]:
    """{outcome: 'low-high unit'} for `material` (for docs and `sdl schema`)."""
    names = {*MATERIAL_RANGES.get(material, {}), *ANY_MATERIAL}
    return {n: _allowed(r) for n in sorted(names) if (r := outcome_range(material, n))}
