"""Materials presets: the calibration parameters of each chemistry, kept as data.

Presets live in `simulator/materials/*.toml`, one file per material, every number with its
source or marked "calibrated" (see the calibration notes in `simulator/growth.py`). This
module only loads and validates them; no physics here.

Materials: "CdSe" (optional ZnS or CdS shell), "CsPbBr3" (halide exchange toward Cl/I),
"Mn:ZnSe" (Mn2+ doped host with exciton > 2.1 eV).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sdl.vocab.flows import FlowChemistry, flow_chemistry

_DIR = Path(__file__).with_name("materials")
_FILES = {"CdSe": "cdse.toml", "CsPbBr3": "cspbbr3.toml", "Mn:ZnSe": "mn_znse.toml"}
MATERIALS: tuple[str, ...] = tuple(_FILES)
AVOGADRO = 6.02214076e23

_REQUIRED = {
    "kinetics": ("conversion_ea_kj_mol", "conversion_k_ref_s", "reference_temperature_c",
                 "anion_order", "ligand_order", "solubility_ref_molar", "solubility_dh_kj_mol",
                 "solubility_ligand_order", "surface_energy_j_m2",
                 "nucleation_prefactor_per_l_s", "diffusion_nm2_s", "reaction_length_nm",
                 "reaction_length_ligand_order", "growth_rate_dispersion"),
    "optics": ("sizing", "bulk_gap_ev", "eps_1s_prefactor", "eps_1s_exponent",
               "line_hwhm_abs_mev", "stokes_mev_large", "homogeneous_fwhm_mev",
               "radiative_lifetime_ns", "qy_max", "surface_capture_5nm", "excitation_nm",
               "auger_ps_per_nm3", "biexciton_nr_scaling", "shape",
               "reference_dye", "reference_plqy", "reference_peak_nm", "reference_fwhm_nm",
               "reference_absorbance", "reference_solvent_index", "solvent_index",
               "sample_dilution", "path_length_cm"),
    "faults": ("clog_base_per_run", "clog_reference_mm", "clog_concentration_order",
               "clog_temperature_scale_c", "fouling_per_run", "bulk_like_diameter_nm"),
}


class MaterialError(ValueError):
    """A preset is unknown or malformed (names the file and the key)."""


@dataclass(frozen=True)
class Material:
    """One materials preset (read-only mappings of the TOML sections).

    Attributes:
        name: "CdSe", "CsPbBr3" or "Mn:ZnSe".
        host_cation: "Cd", "Pb" or "Zn".
        molecular_volume_nm3: volume of one formula unit, M / (rho N_A), nm^3.
        temperature_window_c: (low, high) in which the chemistry gives crystalline dots.
        kinetics, optics, faults: parameter sections (see the TOML files).
        shells: shell material -> parameters ({} if none is possible).
        dopant: dopant parameters, or None.
        phase: perovskite phase-stability parameters, or None.
        source: path of the preset file.
    """

    name: str
    host_cation: str
    molecular_volume_nm3: float
    temperature_window_c: tuple[float, float]
    kinetics: Mapping[str, Any]
    optics: Mapping[str, Any]
    faults: Mapping[str, Any]
    shells: Mapping[str, Mapping[str, Any]]
    dopant: Mapping[str, Any] | None
    phase: Mapping[str, Any] | None
    source: str

    @property
    def default_shell(self) -> str:
        """First shell listed in the preset (ZnS for CdSe)."""
        return next(iter(self.shells))

    @property
    def flow_chemistry(self) -> FlowChemistry:
        """Stocks, core diameter and shell monolayer for the conditions -> flows mapping
        (`sdl.vocab.flows`; the preset shared with the hardware)."""
        return flow_chemistry(self.name)


def molecular_volume_nm3(formula_mass_g_mol: float, density_g_cm3: float) -> float:
    """Volume per formula unit in nm^3: M / (rho N_A), 1 cm^3 = 1e21 nm^3."""
    return formula_mass_g_mol / (density_g_cm3 * AVOGADRO) * 1e21


@functools.cache
def load_material(name: str) -> Material:
    """Load and validate the preset of `name`.

    Raises:
        MaterialError: unknown material, unreadable file or a missing key.
    """
    if name not in _FILES:
        raise MaterialError(f"unknown material {name!r}; allowed: {', '.join(MATERIALS)}")
    path = _DIR / _FILES[name]
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise MaterialError(f"{path}: cannot read preset: {e}") from None
    for section, keys in _REQUIRED.items():
        sec = data.get(section)
        if not isinstance(sec, dict):
            raise MaterialError(f"{path}: missing section [{section}]")
        missing = [k for k in keys if k not in sec]
        if missing:
            raise MaterialError(f"{path}: [{section}] lacks {', '.join(missing)}")
    shells = data.get("shell", {})
    frozen = {k: MappingProxyType(dict(v)) for k, v in shells.items()}
    lo, hi = data["temperature_window_c"]
    return Material(
        name=data["name"],
        host_cation=data["host_cation"],
        molecular_volume_nm3=molecular_volume_nm3(data["formula_mass_g_mol"],
                                                  data["density_g_cm3"]),
        temperature_window_c=(float(lo), float(hi)),
        kinetics=MappingProxyType(dict(data["kinetics"])),
        optics=MappingProxyType(dict(data["optics"])),
        faults=MappingProxyType(dict(data["faults"])),
        shells=MappingProxyType(frozen),
        dopant=MappingProxyType(dict(data["dopant"])) if "dopant" in data else None,
        phase=MappingProxyType(dict(data["phase"])) if "phase" in data else None,
        source=str(path),
    )
