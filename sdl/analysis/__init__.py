"""Numeric analysis core: spectra, sizing, g2, lifetime, blinking, photon files, scoring.

Standalone: imports nothing from `sdl` outside `sdl.analysis` but the vocabulary leaf
(`sdl.vocab`), nor from
`hardware`, `surrogates` or `simulator`. Public functions validate their inputs and call
private numba kernels; importing this package compiles nothing.
"""
