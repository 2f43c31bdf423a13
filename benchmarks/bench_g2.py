"""`sdl bench g2 [--json] [--quick]`: coincidence-histogram speed against pycorrelate.

Same data, same bins, one run: two independent Poisson streams (seeded) of N photons in
total at 1e5 counts/s per channel.
- Linear bins: ±500 ns x 1 ns (1000 bins). `pycorrelate.pcorrelate` costs O(N x bins), so
  it runs on the first `pycorrelate_photons` photons of the same streams and its time is
  scaled linearly to N (its cost is linear in N at fixed rate); counts are checked
  identical on that subset (pcorrelate returns counts / bin width: multiplied back).
- Log bins: ±(1 ns .. 100 µs), 10 per decade, both signs; same subset rule.
- `speedup_vs_pycorrelate[_log]` compare our full-size time with pycorrelate's subset time
  scaled to full size; `..._same_subset` compare both on the identical subset (no scaling).
- Timings are the best of 3 runs (pycorrelate linear: best of 2), so both sides get the
  same treatment on a shared, noisy machine.
- `mphotons_per_s`: photons (both channels) per second of wall time, serial kernel on one
  core; `mphotons_per_s_parallel` with numba prange on all threads.
- `ptu_speed_ratio_vs_tttrlib`: from `benchmarks.bench_ptu.run(quick)` when present.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

RATE_CPS = 1e5


def _streams(n_total: int, seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = n_total // 2
    T = int(n / RATE_CPS * 1e12)
    t1 = np.sort(rng.integers(0, T, n))
    t2 = np.sort(rng.integers(0, T, n))
    return t1, t2


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _pycorrelate_counts(pcorrelate, t1, t2, edges, repeat: int) -> tuple[float, np.ndarray]:
    dt, g = _best(lambda: pcorrelate(t1, t2, edges), repeat)
    return dt, np.rint(g * np.diff(edges)).astype(np.int64)


def run(quick: bool = False) -> dict:
    """Run the benchmark and return the figures as a plain dict."""
    from sdl.analysis.g2_kernels import cross_correlation_counts, linear_edges, log_edges

    n_total = 2_000_000 if quick else 20_000_000
    n_sub = 20_000 if quick else 200_000
    t1, t2 = _streams(n_total)
    lin = linear_edges(500_000, 1_000)
    logb = log_edges(1_000, 100_000_000, 10)

    # compile / load the cache outside the timings
    cross_correlation_counts(t1[:100], t2[:100], lin)
    cross_correlation_counts(t1[:100], t2[:100], logb)
    cross_correlation_counts(t1[:100], t2[:100], lin, parallel=True)
    cross_correlation_counts(t1[:100], t2[:100], logb, parallel=True)

    repeat = 3
    t_lin, c_lin = _best(lambda: cross_correlation_counts(t1, t2, lin), repeat)
    t_lin_par, c_lin_par = _best(
        lambda: cross_correlation_counts(t1, t2, lin, parallel=True), repeat
    )
    t_log, c_log = _best(lambda: cross_correlation_counts(t1, t2, logb), repeat)
    t_log_par, _ = _best(lambda: cross_correlation_counts(t1, t2, logb, parallel=True), repeat)

    out: dict = {
        "photons": int(t1.size + t2.size),
        "rate_cps_per_channel": RATE_CPS,
        "linear_bins": {
            "range_ps": [int(lin[0]), int(lin[-1])],
            "bin_ps": 1000,
            "n_bins": int(lin.size - 1),
        },
        "log_bins": {
            "range_ps": [int(logb[0]), int(logb[-1])],
            "per_decade": 10,
            "n_bins": int(logb.size - 1),
        },
        "sdl_linear_s": t_lin,
        "sdl_linear_parallel_s": t_lin_par,
        "sdl_log_s": t_log,
        "sdl_log_parallel_s": t_log_par,
        "mphotons_per_s": (t1.size + t2.size) / t_lin / 1e6,
        "mphotons_per_s_parallel": (t1.size + t2.size) / t_lin_par / 1e6,
        "mphotons_per_s_log": (t1.size + t2.size) / t_log / 1e6,
        "parallel_identical": bool(np.array_equal(c_lin, c_lin_par)),
        "coincidences_linear": int(c_lin.sum()),
        "coincidences_log": int(c_log.sum()),
    }
    try:
        from pycorrelate import pcorrelate
    except ImportError:
        pcorrelate = None
    if pcorrelate is None:
        out.update(
            speedup_vs_pycorrelate=None, speedup_vs_pycorrelate_log=None, pycorrelate_photons=0
        )
    else:
        h = n_sub // 2
        s1, s2 = t1[:h], t2[:h]
        ps1, ps2 = s1.astype(np.float64), s2.astype(np.float64)
        # compile pycorrelate outside the timing, as ours
        pcorrelate(ps1[:50], ps2[:50], lin.astype(np.float64))
        tp_lin, pc_lin = _pycorrelate_counts(pcorrelate, ps1, ps2, lin.astype(np.float64), 2)
        tp_log, pc_log = _pycorrelate_counts(pcorrelate, ps1, ps2, logb.astype(np.float64), repeat)
        scale = (t1.size + t2.size) / (s1.size + s2.size)
        t_lin_sub, ours_lin_sub = _best(lambda: cross_correlation_counts(s1, s2, lin), repeat)
        t_log_sub, ours_log_sub = _best(lambda: cross_correlation_counts(s1, s2, logb), repeat)
        out.update(
            pycorrelate_photons=int(s1.size + s2.size),
            pycorrelate_scaled_to_photons=int(t1.size + t2.size),
            pycorrelate_linear_s_measured=tp_lin,
            pycorrelate_log_s_measured=tp_log,
            pycorrelate_linear_s_scaled=tp_lin * scale,
            pycorrelate_log_s_scaled=tp_log * scale,
            speedup_vs_pycorrelate=tp_lin * scale / t_lin,
            speedup_vs_pycorrelate_log=tp_log * scale / t_log,
            speedup_vs_pycorrelate_same_subset=tp_lin / t_lin_sub,
            speedup_vs_pycorrelate_log_same_subset=tp_log / t_log_sub,
            identical_counts_linear=bool(np.array_equal(pc_lin, ours_lin_sub)),
            identical_counts_log=bool(np.array_equal(pc_log, ours_log_sub)),
        )
    from benchmarks import bench_ptu

    out.update(bench_ptu.run(quick))
    out.setdefault("ptu_speed_ratio_vs_tttrlib", None)
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="sdl bench g2", description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="smaller sizes (2e6 photons)")
    args = p.parse_args(argv)
    res = run(args.quick)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    for k, v in res.items():
        print(f"{k:34s} {v:.4g}" if isinstance(v, float) else f"{k:34s} {v}")
    return 0
