"""Physics simulator of colloidal quantum-dot flow synthesis, doping and photon statistics.

Numeric core: imports from `sdl` only the leaf vocabulary `sdl.vocab` (conditions, flows,
raw measurement), nothing from `hardware` or `surrogates`. Public entry points are imported
lazily so `import simulator` compiles no numba kernels.

Layout: `outlet` (the per-experiment pipeline as stage functions, calibration notes),
`growth` (population balance), `rtd`, `stage2` (shell, exchange, dopants), `optics`
(sizing, spectra, ensemble PLQY), `dot` (single-dot photophysics: yields, Auger, g2),
`photons` + `photon_params` + `_photon_kernels` (time-tagged HBT streams), `spectrometer`,
`faults`, `checks`, `materials` (+ `materials/*.toml` presets), `rig` (`SimulatedRig`).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SimulatedRig": "simulator.rig",
    "outlet_state": "simulator.outlet",
    "OutletState": "simulator.outlet",
    "load_material": "simulator.materials",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
