"""Simulator speed: `sdl bench sim [--json] [--quick]`.

Prints JSON-able figures:
  first_call_jit_s    first experiment in a fresh process (numba compile or cache load)
  ms_per_experiment   median wall time of SimulatedRig.run (spectra + truth) after warm-up,
                      each experiment at new conditions (a new growth trajectory: worst case)
  ms_per_experiment_cached  outlet_state (physics, no detector) when only the residence
                      time changed (trajectory cache hit: a re-weighting)
  s_per_1e7_pulses    photon stream (simulator.photons), seconds per 1e7 laser pulses
Goals (SIMULATOR.md): <= 50 ms per experiment, <= 1 s per 1e7 pulses.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _bench_spectra(n: int) -> tuple[float, float, float]:
    from simulator.rig import SimulatedRig, outlet_state

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    rig = SimulatedRig("CdSe", 0, failure_rate=0.0, clogging=False)
    rig.run({"temperature_c": 255.0, "residence_time_s": 60.0}, "warm")
    first = time.perf_counter() - t0
    new, cached = [], []
    for i in range(n):
        c = {"temperature_c": float(rng.uniform(220, 300)),
             "residence_time_s": float(np.exp(rng.uniform(np.log(10), np.log(600)))),
             "se_to_cd": float(rng.uniform(0.5, 4.0)),
             "ligand_to_metal": float(np.exp(rng.uniform(0, np.log(10)))),
             "metal_conc_mm": float(rng.uniform(5, 50))}
        t = time.perf_counter()
        rig.run(c, f"n{i}")
        new.append(time.perf_counter() - t)
        outlet_state("CdSe", c, 0)                      # primes the trajectory cache
        c["residence_time_s"] = float(c["residence_time_s"]) * 1.5
        t = time.perf_counter()
        outlet_state("CdSe", c, 0)
        cached.append(time.perf_counter() - t)
    return first, 1e3 * float(np.median(new)), 1e3 * float(np.median(cached))


def _bench_photons(pulses: int) -> float:
    from simulator.photons import DetectorParams, Excitation, emitter_from_dot, photon_stream

    em = emitter_from_dot(2.3, 0.7, 0.5, 10.0)
    exc = Excitation("pulsed", 10e6, 0.1)
    photon_stream(em, exc, DetectorParams(), 0.01, 1)        # warm-up / compile
    duration = pulses / 10e6
    t = time.perf_counter()
    photon_stream(em, exc, DetectorParams(), duration, 2)
    return (time.perf_counter() - t) * 1e7 / pulses


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="sdl bench sim")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    a = p.parse_args(argv)
    n = 5 if a.quick else 30
    first, ms_new, ms_cached = _bench_spectra(n)
    s_1e7 = _bench_photons(2_000_000 if a.quick else 10_000_000)
    res = {"first_call_jit_s": round(first, 3), "ms_per_experiment": round(ms_new, 2),
           "ms_per_experiment_cached": round(ms_cached, 2),
           "s_per_1e7_pulses": round(s_1e7, 3),
           "experiments": n, "goal_ms_per_experiment": 50.0, "goal_s_per_1e7_pulses": 1.0}
    if a.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:28s} {v}")
    return 0
