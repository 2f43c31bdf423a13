"""Physics simulator of colloidal quantum-dot flow synthesis, doping and photon statistics.

Standalone numeric core: imports nothing from `sdl`, `hardware` or `surrogates`.
Public entry points are imported lazily so `import simulator` compiles no numba kernels.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SimulatedRig": "simulator.rig",
    "outlet_state": "simulator.rig",
    "OutletState": "simulator.rig",
    "load_material": "simulator.materials",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
