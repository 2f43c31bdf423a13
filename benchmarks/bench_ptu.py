"""PTU decode throughput against tttrlib, same file, same process.

A seeded HydraHarp V2 T2 file (two detectors, Poisson photons at 5e5 counts/s in total,
1 ps resolution, so one counted overflow record every 33.6 us) of `records` uint32
records is written with `write_ptu` to a temporary directory, then read

- by `read_ptu` (header parse + np.fromfile + numba decode to int64 ps timestamps, uint8
  channels, markers apart), and
- by `tttrlib.TTTR(path, "PTU")` followed by fetching its macro times and routing
  channels as numpy arrays (what a caller needs; `tttrlib_construct_only_s` times the
  constructor alone).

Each is timed best of `repeat` after a warm-up read (numba cache load, OS page cache).
`ptu_speed_ratio_vs_tttrlib` = tttrlib time / our time (> 1: we are faster), and
`timestamps_identical` checks macro_time x resolution == our timestamps and the channels
(tttrlib's raw code + 1 == ours) on every photon.

Run: ``.venv/bin/python -m benchmarks.bench_ptu [--json] [--quick]``; also merged into
``sdl bench g2 --json``.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time

import numpy as np

from benchmarks.report import bench_main

RATE_CPS = 5e5
PERIOD_TICKS = 33_554_432


def make_file(path: str, n_records: int, seed: int = 2024) -> int:
    """Write the benchmark file; returns the number of photons in it."""
    from sdl.analysis.photon_files import write_ptu

    # Mean gap 2e6 ps -> about 16.8 photons per overflow period, so photons are a
    # fraction 16.8 / 17.8 of the records.
    n_photons = int(n_records * (PERIOD_TICKS / 2e6) / (PERIOD_TICKS / 2e6 + 1))
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1e12 / RATE_CPS, n_photons).astype(np.int64)
    ts = np.cumsum(gaps)
    ch = rng.integers(1, 3, n_photons).astype(np.uint8)
    write_ptu(path, ts, ch, record_type="HydraHarp2T2", resolution_ps=1.0)
    return n_photons


def _best(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(quick: bool = False) -> dict:
    """Run the benchmark; returns a plain dict of figures (see module docstring)."""
    from sdl.analysis.photon_files import read_ptu

    n_records = 2_000_000 if quick else 20_000_000
    repeat = 3
    with tempfile.TemporaryDirectory(prefix="bench_ptu_") as tmp:
        path = os.path.join(tmp, "hbt_hh2t2.ptu")
        make_file(path, n_records)
        size = os.path.getsize(path)
        header_n = read_ptu(path).header["TTResult_NumberOfRecords"]  # warm-up
        t_ours, ours = _best(lambda: read_ptu(path), repeat)
        out: dict = {
            "ptu_file_records": int(header_n),
            "ptu_file_bytes": int(size),
            "ptu_photons": int(ours.n_photons),
            "ptu_read_s": t_ours,
            "ptu_mrecords_per_s": header_n / t_ours / 1e6,
        }
        try:
            import tttrlib
        except ImportError:
            tttrlib = None
        if tttrlib is None:
            out.update(tttrlib_mrecords_per_s=None, ptu_speed_ratio_vs_tttrlib=None,
                       timestamps_identical=None)
            return out

        def tttr_read():
            t = tttrlib.TTTR(path, "PTU")
            return t, np.asarray(t.macro_times), np.asarray(t.routing_channels)

        tttr_read()  # warm-up
        t_tttr, (tt, macro, route) = _best(tttr_read, repeat)
        t_construct, _ = _best(lambda: tttrlib.TTTR(path, "PTU"), repeat)
        photons = np.asarray(tt.event_types) == 0
        identical = bool(
            photons.sum() == ours.n_photons
            and np.array_equal(macro[photons].astype(np.int64), ours.timestamps_ps)
            and np.array_equal(route[photons].astype(np.int64) + 1, ours.channels)
        )
        out.update(
            tttrlib_read_s=t_tttr,
            tttrlib_construct_only_s=t_construct,
            tttrlib_mrecords_per_s=header_n / t_tttr / 1e6,
            ptu_speed_ratio_vs_tttrlib=t_tttr / t_ours,
            timestamps_identical=identical,
        )
        del tt, macro, route, ours
        return out


def main(argv: list[str] | None = None) -> int:
    return bench_main("sdl bench ptu", __doc__, "2e6 records instead of 2e7", run, argv, 30)


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
