"""`sdl bench spectra [--json] [--quick]`: spectra scored per second on one core.

Each "spectrum" is one full raw measurement of 1024 pixels (absorbance dark/reference/
sample counts and PL dark/sample/reference counts, Poisson noise, seeded) scored for every
spectral outcome: abs_peak_nm, diameter_nm, size_dispersion, yield, pl_peak_nm, fwhm_nm,
fwhm_mev, plqy, mn_ratio (the CdSe sample gives mn_ratio NoOutcome "bands_overlap"
after finding the PL band). A pool of distinct measurements (varied peak, width, PLQY) is
generated first; numba kernels are compiled (or loaded from cache) by a warm-up pass that
is not timed. `spectra_per_s` = measurements scored / wall time, single thread;
`spectra_per_cpu_s` = the same per CPU second of this process (robust to a shared,
loaded machine). Set NUMBA_NUM_THREADS=1 for a strict one-core figure (the kernels are
serial either way).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from types import SimpleNamespace

import numpy as np

from sdl.vocab.constants import HC_EV_NM

HC = HC_EV_NM
OUTCOMES = ("abs_peak_nm", "diameter_nm", "size_dispersion", "yield", "pl_peak_nm",
            "fwhm_nm", "fwhm_mev", "plqy", "mn_ratio")


def _gauss(e, c, fwhm):
    s = fwhm / (2 * math.sqrt(2 * math.log(2)))
    return np.exp(-((e - c) ** 2) / (2 * s * s))


def _raw(rng: np.random.Generator, pixels: int = 1024) -> SimpleNamespace:
    wl = np.linspace(350.0, 800.0, pixels)
    e = HC / wl
    peak = rng.uniform(520.0, 630.0)
    e1 = HC / peak
    amp = rng.uniform(0.1, 0.4)
    a = (amp * _gauss(e, e1, rng.uniform(0.08, 0.13)) + 0.8 * amp * _gauss(e, e1 + 0.22, 0.15)
         + 2 * amp / (1 + np.exp(-(e - e1 - 0.45) / 0.12)))
    lamp = 12000.0 * (0.6 + 0.4 * np.exp(-((wl - 600) / 250) ** 2))
    dl = np.gradient(wl)
    pl = rng.uniform(0.5, 2.0) * 1e5 * _gauss(e, e1 - 0.02, rng.uniform(0.06, 0.12)) * HC / wl**2 * dl
    pl = pl / pl.sum() * rng.uniform(5e4, 3e5)
    ref = 1e5 * _gauss(e, HC / 520, 0.15) * HC / wl**2 * dl
    ref = ref / ref.sum() * 1e5
    meta = {"material": "CdSe", "path_length_cm": 0.1, "excitation_nm": 400.0,
            "reference_plqy": 0.95, "reference_absorbance": 0.1, "solvent_index": 1.445,
            "reference_solvent_index": 1.361, "feed_metal_molar": 0.01,
            "sample_dilution": 5.0, "saturation_counts": 16383, "acquisition_s": 1.0}
    return SimpleNamespace(
        wavelengths_nm=wl,
        abs_dark_counts=rng.poisson(600.0, pixels).astype(float),
        abs_reference_counts=rng.poisson(600 + lamp).astype(float),
        abs_sample_counts=rng.poisson(600 + lamp * 10 ** (-a)).astype(float),
        pl_dark_counts=rng.poisson(300.0, pixels).astype(float),
        pl_sample_counts=rng.poisson(300 + pl).astype(float),
        pl_reference_counts=rng.poisson(300 + ref).astype(float),
        photon_timestamps_ps=None, photon_channels=None, sync_period_ps=0,
        metadata=meta, failure=None,
    )


def run(quick: bool = False) -> dict:
    """Run the benchmark; return the figures as a plain dict."""
    from sdl.analysis.estimate import Estimate
    from sdl.analysis.score import score

    n = 300 if quick else 3000
    rng = np.random.default_rng(2026)
    pool = [_raw(rng) for _ in range(min(n, 200))]
    for raw in pool[:3]:  # compile / load numba kernels, untimed
        score(raw, OUTCOMES, "CdSe")
    ok = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i in range(n):
        out = score(pool[i % len(pool)], OUTCOMES, "CdSe")
        ok += sum(isinstance(v, Estimate) for v in out.values())
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {
        "spectra_per_s": n / dt,
        "spectra_per_cpu_s": n / cpu,
        "ms_per_spectrum": 1e3 * dt / n,
        "spectra": n,
        "pixels": 1024,
        "outcomes_per_spectrum": len(OUTCOMES),
        "estimates_fraction": ok / (n * len(OUTCOMES)),
        "quick": quick,
    }


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="sdl bench spectra", description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--quick", action="store_true", help="fewer spectra (smoke run)")
    args = p.parse_args(argv)
    res = run(quick=args.quick)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"spectra scored: {res['spectra']} x {res['pixels']} px, "
              f"{res['outcomes_per_spectrum']} outcomes each "
              f"({100 * res['estimates_fraction']:.0f} % estimates)")
        print(f"spectra_per_s: {res['spectra_per_s']:.0f}  "
              f"({res['ms_per_spectrum']:.3f} ms per spectrum, one core; "
              f"{res['spectra_per_cpu_s']:.0f} per CPU-second)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
