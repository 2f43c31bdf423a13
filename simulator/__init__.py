"""Physics simulator of colloidal quantum-dot flow synthesis, doping and photon statistics.

Standalone numeric core: imports nothing from `sdl`, `hardware` or `surrogates`.
Public entry points are imported lazily so `import simulator` compiles no numba kernels.
"""
