"""The vocabulary of experimental conditions: names, units and physical bounds.

A campaign parameter (or a fixed condition) must be one of these names; the simulator
(`SimulatedRig`) and the hardware (`FlowRig`) both take a `Conditions` mapping with these
keys. Anything not given takes its `default`. Bounds are the widest values the physics
(and a typical rig) accept; a campaign may narrow them, never widen them.

How conditions become flows (used by both rigs, see `sdl.vocab.flows`):
  Q_total = V_reactor / residence_time_s; the metal, anion, ligand, dopant and shell
  streams are fractions of Q_total set by the ratios and concentrations below and the
  stock concentrations of each inlet; solvent makes up the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ConditionValue = float | int | str
Conditions = Mapping[str, ConditionValue]


@dataclass(frozen=True)
class ConditionSpec:
    """One named condition.

    Attributes:
        name: key used in campaign files, proposals and rig calls.
        unit: unit of the value ("" for dimensionless ratios).
        low, high: physical bounds (numeric conditions); None for categorical ones.
        default: value used when a campaign neither varies nor fixes the condition.
        choices: allowed values for categorical conditions.
        description: one line for `sdl schema` and error messages.
    """

    name: str
    unit: str
    low: float | None
    high: float | None
    default: ConditionValue
    description: str
    choices: tuple[str, ...] = ()


_SPECS = (
    ConditionSpec("temperature_c", "degC", 20.0, 350.0, 260.0,
                  "core-stage reactor temperature"),
    ConditionSpec("residence_time_s", "s", 1.0, 1800.0, 120.0,
                  "mean residence time in the core stage, V_reactor / Q_total"),
    ConditionSpec("metal_conc_mm", "mM", 1.0, 200.0, 20.0,
                  "metal (Cd, Pb or Zn) precursor concentration after mixing"),
    ConditionSpec("se_to_cd", "", 0.2, 10.0, 2.0,
                  "chalcogenide:metal (Se:Cd, Se:Zn) molar feed ratio"),
    ConditionSpec("br_to_pb", "", 0.5, 10.0, 3.0,
                  "halide:lead (Br:Pb) molar feed ratio for perovskites"),
    ConditionSpec("ligand_to_metal", "", 0.5, 20.0, 4.0,
                  "ligand (acid + amine):metal molar ratio; sets passivation and growth rate"),
    ConditionSpec("dopant_feed_fraction", "", 0.0, 0.3, 0.0,
                  "dopant cation fraction in the feed, Mn/(Mn + host cation)"),
    ConditionSpec("shell_monolayers", "ML", 0.0, 10.0, 0.0,
                  "shell precursor dose in the second stage, in monolayer equivalents"),
    ConditionSpec("shell_material", "", None, None, "ZnS",
                  "shell material grown in the second stage (CdS only on CdSe cores)",
                  choices=("ZnS", "CdS")),
    ConditionSpec("shell_temperature_c", "degC", 20.0, 320.0, 220.0,
                  "second-stage (shell / exchange / doping) temperature"),
    ConditionSpec("exchange_fraction", "", 0.0, 1.0, 0.0,
                  "halide-exchange stream: fraction of Br replaced by exchange_halide"),
    ConditionSpec("exchange_halide", "", None, None, "Cl",
                  "halide fed to the exchange stage", choices=("Cl", "I")),
    ConditionSpec("flow_format", "", None, None, "laminar",
                  "single-phase laminar or gas/liquid segmented flow",
                  choices=("laminar", "segmented")),
    ConditionSpec("excitation_mean", "", 0.001, 5.0, 0.1,
                  "mean excitations per pulse <N> (pulsed) or per lifetime (cw)"),
    ConditionSpec("rep_rate_mhz", "MHz", 0.1, 80.0, 2.5,
                  "laser repetition rate for pulsed photon statistics"),
    ConditionSpec("photon_mode", "", None, None, "pulsed",
                  "photon-statistics excitation mode", choices=("pulsed", "cw")),
    ConditionSpec("acquisition_s", "s", 0.1, 600.0, 5.0,
                  "photon-stream acquisition time (cost/fidelity knob)"),
)

CONDITIONS: dict[str, ConditionSpec] = {s.name: s for s in _SPECS}

#: Shell materials each core material takes (`shell_material`); an empty tuple means the
#: material has no shell stage and the condition is ignored (it may not be set in a campaign).
SHELLS_BY_MATERIAL: dict[str, tuple[str, ...]] = {
    "CdSe": ("ZnS", "CdS"),
    "Mn:ZnSe": ("ZnS",),
    "CsPbBr3": (),
}


def shell_error(material: str, shell: str) -> str | None:
    """Why `shell` cannot be grown on `material` (one sentence), or None when it can."""
    allowed = SHELLS_BY_MATERIAL.get(material)
    if allowed is None:
        return None
    if not allowed:
        return f"{material} takes no shell (no shell stage); remove shell_material"
    if shell not in allowed:
        return f"shell_material={shell!r} cannot be grown on {material}; allowed: {list(allowed)}"
    return None


def defaults() -> dict[str, ConditionValue]:
    """Default value of every condition, keyed by name."""
    return {name: spec.default for name, spec in CONDITIONS.items()}


def complete(conditions: Conditions) -> dict[str, ConditionValue]:
    """Fill in defaults for conditions not given; raise `KeyError` on an unknown name."""
    unknown = sorted(set(conditions) - set(CONDITIONS))
    if unknown:
        raise KeyError(f"unknown condition(s) {unknown}; known: {sorted(CONDITIONS)}")
    out = defaults()
    out.update(conditions)
    return out
