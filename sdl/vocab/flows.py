"""Conditions <-> inlet flows (uL/min): the documented mapping both rigs use.

Core stage (mixer before the core reactor of volume V):
    Q_core = 60 V / residence_time_s                       (uL/min, V in uL)
    Q_metal  = Q_core c_M / stock_metal                    c_M = metal_conc_mm / 1000 (M)
    Q_anion  = Q_core c_M r / stock_anion                  r = se_to_cd (br_to_pb for Pb)
    Q_ligand = Q_core c_M L / stock_ligand                 L = ligand_to_metal
    Q_dopant = Q_core c_M f / (1 - f) / stock_dopant       f = dopant_feed_fraction
    Q_solvent = Q_core - (sum of the above)                (must be >= 0)
Stage 2 (added after the core reactor; concentrations referred to Q_core):
    Q_shell    = Q_core c_M v_s / stock_shell,  v_s = ((D0 + 2 h)^3 - D0^3) / D0^3 the shell
                 volume per core volume for the nominal core D0 and h = ML x ML thickness
    Q_exchange = Q_core 3 c_M x / stock_exchange           x = exchange_fraction
The inverse `conditions_from_flows` recovers the same numbers. The chemistry (host cation,
stock concentrations, nominal core diameter, shell monolayer) is a `FlowChemistry`:
`flow_chemistry(material)` reads the preset of a material from `flow_chemistry.toml` next
to this module, with a rig file's pump stocks overriding the preset's.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

INLETS = ("metal", "anion", "ligand", "dopant", "shell", "exchange", "solvent")
#: Inlets fed from a stock solution (all but the solvent).
STOCK_INLETS = INLETS[:-1]
_PRESETS = Path(__file__).with_name("flow_chemistry.toml")


class FlowInfeasible(ValueError):
    """The stocks cannot deliver the conditions (reagent flows exceed the total)."""


@dataclass(frozen=True)
class FlowChemistry:
    """What the conditions -> flows mapping needs to know about a chemistry.

    Attributes:
        material: preset name ("CdSe", "CsPbBr3", "Mn:ZnSe").
        host_cation: "Cd", "Pb" or "Zn"; Pb reads `br_to_pb`, the others `se_to_cd`.
        stock_molar: inlet (each of `STOCK_INLETS`) -> stock concentration, mol/L.
        nominal_core_diameter_nm: core diameter D0 for the shell-volume conversion, nm.
        shell_monolayer_nm: one monolayer of the default shell, nm (0 = no shell).
    """

    material: str
    host_cation: str
    stock_molar: Mapping[str, float] = field(default_factory=dict)
    nominal_core_diameter_nm: float = 4.0
    shell_monolayer_nm: float = 0.0

    def with_stocks(self, stocks: Mapping[str, float] | None) -> FlowChemistry:
        """A copy whose stock concentrations are overridden by `stocks` (inlet -> mol/L)."""
        if not stocks:
            return self
        merged = dict(self.stock_molar)
        merged.update({k: float(v) for k, v in stocks.items()})
        return replace(self, stock_molar=MappingProxyType(merged))


@functools.cache
def _presets() -> dict[str, dict[str, object]]:
    return tomllib.loads(_PRESETS.read_text())


def flow_materials() -> tuple[str, ...]:
    """Names of the materials with a flow-chemistry preset."""
    return tuple(_presets())


def flow_chemistry(material: str, stocks: Mapping[str, float] | None = None) -> FlowChemistry:
    """The flow-chemistry preset of `material`, stocks overridden by `stocks` where given.

    Raises:
        KeyError: unknown material (the message lists the known ones).
    """
    presets = _presets()
    if material not in presets:
        raise KeyError(f"unknown material {material!r}; allowed: {', '.join(presets)}")
    p = presets[material]
    chem = FlowChemistry(
        material=material,
        host_cation=str(p["host_cation"]),
        stock_molar=MappingProxyType({k: float(p[f"{k}_stock_molar"]) for k in STOCK_INLETS}),
        nominal_core_diameter_nm=float(p["nominal_core_diameter_nm"]),
        shell_monolayer_nm=float(p["shell_monolayer_nm"]),
    )
    return chem.with_stocks(stocks)


def flows_from_conditions(conditions: Mapping[str, object], chemistry: FlowChemistry,
                          reactor_volume_ul: float) -> dict[str, float]:
    """Inlet flows in uL/min, keyed by `INLETS`, for complete `conditions`.

    Raises:
        FlowInfeasible: the reagent streams would exceed Q_core (stocks too dilute).
    """
    st = chemistry.stock_molar
    q = 60.0 * reactor_volume_ul / float(conditions["residence_time_s"])
    c_m = float(conditions["metal_conc_mm"]) * 1e-3
    ratio = float(conditions["br_to_pb"] if chemistry.host_cation == "Pb"
                  else conditions["se_to_cd"])
    f = float(conditions["dopant_feed_fraction"])
    flows = {
        "metal": q * c_m / st["metal"],
        "anion": q * c_m * ratio / st["anion"],
        "ligand": q * c_m * float(conditions["ligand_to_metal"]) / st["ligand"],
        "dopant": q * c_m * f / (1.0 - f) / st["dopant"] if f > 0 else 0.0,
    }
    used = sum(flows.values())
    if used > q * (1 + 1e-12):
        raise FlowInfeasible(
            f"reagent flows {used:.1f} uL/min exceed the core flow {q:.1f} uL/min: "
            f"stocks too dilute for metal_conc_mm={conditions['metal_conc_mm']}")
    flows["solvent"] = max(q - used, 0.0)
    d0 = chemistry.nominal_core_diameter_nm
    h = float(conditions["shell_monolayers"]) * chemistry.shell_monolayer_nm
    v_s = ((d0 + 2 * h) ** 3 - d0**3) / d0**3
    flows["shell"] = q * c_m * v_s / st["shell"]
    flows["exchange"] = q * 3.0 * c_m * float(conditions["exchange_fraction"]) / st["exchange"]
    return {k: flows[k] for k in INLETS}


def total_flow_ul_min(flows: Mapping[str, float]) -> float:
    """Sum of all inlet flows (what the rig limit max_total_flow_ul_min bounds)."""
    return float(sum(flows.values()))


def conditions_from_flows(flows: Mapping[str, float], chemistry: FlowChemistry,
                          reactor_volume_ul: float) -> dict[str, float]:
    """Inverse of `flows_from_conditions`: the flow-set conditions from inlet flows."""
    st = chemistry.stock_molar
    q = sum(float(flows.get(k, 0.0)) for k in ("metal", "anion", "ligand", "dopant", "solvent"))
    if q <= 0 or flows.get("metal", 0.0) <= 0:
        raise FlowInfeasible("core flow and metal flow must be positive")
    c_m = flows["metal"] * st["metal"] / q
    out: dict[str, float] = {
        "residence_time_s": 60.0 * reactor_volume_ul / q,
        "metal_conc_mm": 1e3 * c_m,
        "ligand_to_metal": flows.get("ligand", 0.0) * st["ligand"] / (q * c_m),
    }
    ratio = flows.get("anion", 0.0) * st["anion"] / (q * c_m)
    out["br_to_pb" if chemistry.host_cation == "Pb" else "se_to_cd"] = ratio
    mn = flows.get("dopant", 0.0) * st["dopant"] / q
    out["dopant_feed_fraction"] = mn / (mn + c_m)
    v_s = flows.get("shell", 0.0) * st["shell"] / (q * c_m)
    d0 = chemistry.nominal_core_diameter_nm
    ml = chemistry.shell_monolayer_nm
    h = 0.5 * d0 * ((1.0 + v_s) ** (1.0 / 3.0) - 1.0)
    out["shell_monolayers"] = h / ml if ml > 0 else 0.0
    out["exchange_fraction"] = flows.get("exchange", 0.0) * st["exchange"] / (3.0 * q * c_m)
    return out
