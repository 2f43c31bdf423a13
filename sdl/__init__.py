"""qd-sdl: a self-driving lab for colloidal quantum-dot flow synthesis.

Importing this package is cheap and has no side effects: numba kernels, torch and the
device drivers are imported only by the modules that need them.
"""

__version__ = "0.1.0"
