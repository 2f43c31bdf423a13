"""Constants shared by the producers and the consumers of measurements, defined once.

- `HC_EV_NM`: Planck constant times the speed of light in eV nm, from the exact SI values
  of h, c and e (CODATA 2018): 6.62607015e-34 x 299792458 / 1.602176634e-19 x 1e9.
- `STS_FULL_SCALE_COUNTS`: full scale of the Ocean STS spectrometer's 14-bit converter,
  2^14 - 1 (what a saturated pixel reads; Ocean Insight STS data sheet).
- `MATERIALS`: the chemistry presets both rigs know (flow chemistry in
  `flow_chemistry.toml`, physics presets in `simulator/materials/`).
"""

from __future__ import annotations

HC_EV_NM = 1239.8419843320026
STS_FULL_SCALE_COUNTS = 2**14 - 1
MATERIALS: tuple[str, ...] = ("CdSe", "CsPbBr3", "Mn:ZnSe")
