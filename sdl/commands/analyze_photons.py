"""`sdl analyze g2|lifetime|blinking FILE`: photon statistics of a .ptu or Photon-HDF5 file.

    sdl analyze g2 FILE [--mode cw|pulsed] [--rep-rate HZ] [--json] [--plot PNG]
    sdl analyze lifetime FILE [--rep-rate HZ] [--n-exp N] [--json] [--plot PNG]
    sdl analyze blinking FILE [--method change_point|threshold] [--json] [--plot PNG]

Argument handling and printing only: sync detection, detector choice, the background
fraction and detector alignment are the photon front end's (`sdl.analysis.photon_frontend`,
the same rules scoring uses): by default every channel but a time-tagged laser sync, g2 on
the two most populated ones (`--channels A B` to choose). Heavy imports (numba kernels,
scipy, matplotlib) happen in the handlers only.
"""

from __future__ import annotations

import argparse
import json

from sdl.analysis.errors import AnalysisInputError


def register(kinds: argparse._SubParsersAction) -> None:
    g = kinds.add_parser("g2", help="g2(0) of an HBT photon file (CW or pulsed)")
    _common(g)
    g.add_argument(
        "--mode", choices=("cw", "pulsed"), help="default: pulsed if the file has a sync period"
    )
    g.add_argument(
        "--channels", nargs=2, type=int, metavar=("A", "B"), help="the two detector channels"
    )
    g.add_argument(
        "--rho",
        type=float,
        help="signal fraction S/(S+B) for the background correction "
        "(default: from the TCSPC decay in pulsed mode; none in CW)",
    )
    g.add_argument(
        "--no-bootstrap", action="store_true", help="skip the block bootstrap (stationarity checks)"
    )
    g.add_argument(
        "--blocks", type=int, default=20, help="time blocks of the block bootstrap (default 20)"
    )
    g.set_defaults(func=run_g2)

    lt = kinds.add_parser("lifetime", help="fluorescence lifetime of a pulsed (TCSPC) photon file")
    _common(lt)
    lt.add_argument(
        "--n-exp", type=int, default=1, choices=(1, 2, 3), help="exponential components"
    )
    lt.add_argument("--bin-ps", type=int, help="histogram bin width, ps (default: auto)")
    lt.add_argument(
        "--channels", nargs="+", type=int, metavar="CH", help="detector channels to use"
    )
    lt.set_defaults(func=run_lifetime)

    b = kinds.add_parser(
        "blinking", help="on/off blinking statistics of a single-emitter photon file"
    )
    _common(b)
    b.add_argument("--method", choices=("change_point", "threshold"), default="change_point",
                   help="intensity-level method (default change_point)")
    b.add_argument(
        "--bin-ms", type=float, default=1.0, help="trace bin, ms (threshold method, plot)"
    )
    b.add_argument(
        "--alpha", type=float, default=0.05, help="type-I error of each change-point test"
    )
    b.add_argument("--channels", nargs="+", type=int, metavar="CH", help="detector channels to use")
    b.set_defaults(func=run_blinking)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="photon file (.ptu or Photon-HDF5 .h5)")
    p.add_argument(
        "--rep-rate", type=float, metavar="HZ", help="laser repetition rate (overrides the file)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="PNG", help="save a plot to this PNG file")


# ----------------------------------------------------------------------------- helpers


def _load(args: argparse.Namespace):
    """(data, stream): the file as read and its `PhotonStream` (period from `--rep-rate`)."""
    from sdl.analysis.photon_files import read_photon_file
    from sdl.analysis.photon_frontend import PhotonStream

    data = read_photon_file(args.file)
    period = int(data.sync_period_ps)
    if args.rep_rate is not None:
        if not (args.rep_rate > 0):
            raise AnalysisInputError(f"--rep-rate must be > 0 Hz, got {args.rep_rate}")
        period = int(round(1e12 / args.rep_rate))
    return data, PhotonStream.from_file(data, period)


def _detectors(data, stream, chosen) -> list[int]:
    import numpy as np

    from sdl.analysis.photon_frontend import detector_channels

    if chosen:
        vals = np.unique(stream.channels)
        missing = [c for c in chosen if c not in vals]
        if missing:
            raise AnalysisInputError(
                f"{data_name(data)}: channel(s) {missing} not in the file (has {vals.tolist()})"
            )
        return list(chosen)
    return detector_channels(stream)


def _save_plot(path: str, draw, size=(7, 4)) -> None:
    """Draw on a fresh Agg figure with `draw(ax)` and save it as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size)
    draw(ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def data_name(data) -> str:
    return getattr(data, "record_type", "") or "photon file"


def _emit(args, obj: dict, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(obj, indent=2, default=_jsonable))
    else:
        print("\n".join(lines))


def _jsonable(x):
    import numpy as np

    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return _f(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def _f(x) -> float | None:
    import math

    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _value_error(args, e: ValueError) -> AnalysisInputError:
    return AnalysisInputError(f"{args.file}: {e}")


# ----------------------------------------------------------------------------- g2


def run_g2(args: argparse.Namespace) -> int:

    from sdl.analysis.bootstrap import bootstrap_g2
    from sdl.analysis.estimate import NoOutcome
    from sdl.analysis.g2 import analyze_g2, brouri_correct, detector_streams
    from sdl.analysis.photon_frontend import signal_fraction_from_decay

    data, stream = _load(args)
    period = stream.sync_period_ps
    mode = args.mode or ("pulsed" if period > 0 else "cw")
    if mode == "pulsed" and period <= 0:
        raise AnalysisInputError(
            f"{args.file}: pulsed mode needs the repetition rate: the file has none, give --rep-rate HZ"
        )
    dets = _detectors(data, stream, args.channels)
    if len(dets) < 2:
        raise AnalysisInputError(f"{args.file}: g2 needs two detector channels, found {dets}")
    a, b = sorted(dets[:2]) if not args.channels else dets[:2]
    sel = (data.channels == a) | (data.channels == b)
    ts, ch = data.timestamps_ps[sel], data.channels[sel]
    duration_s = None
    if data.timestamps_ps.size > 1:
        duration_s = float(data.timestamps_ps[-1] - data.timestamps_ps[0]) * 1e-12 or None
    try:
        r = analyze_g2(ts, ch, period if mode == "pulsed" else 0, duration_s=duration_s,
                       mode=mode, detectors=(a, b))
    except ValueError as e:
        raise _value_error(args, e) from None
    base = {"file": args.file, "mode": mode, "channels": [a, b], "sync_period_ps": period}
    if isinstance(r, NoOutcome):
        out = {**base, **r.to_json(), "g2_zero": None, "g2_zero_stderr": None}
        _emit(args, out, [f"g2(0): no outcome ({r.reason}): {r.detail}"])
        return 1

    rho, rho_source = args.rho, "--rho" if args.rho is not None else None
    if rho is None and mode == "pulsed":
        rho = signal_fraction_from_decay(stream, (a, b))
        rho_source = None if rho is None else "tcspc_decay_floor"
    corrected = None
    if rho is not None:
        try:
            v, s = brouri_correct(r.g2_zero, rho, r.g2_zero_stderr)
        except ValueError as e:
            raise _value_error(args, e) from None
        corrected = {"g2_zero": v, "g2_zero_stderr": s, "rho": rho, "rho_source": rho_source,
                     "method": "brouri2000"}
    boot = None
    if not args.no_bootstrap:
        if args.blocks < 2:
            raise AnalysisInputError(f"--blocks must be >= 2, got {args.blocks}")
        t1, t2, _ = detector_streams(ts, ch, (a, b))
        boot = bootstrap_g2(r, t1, t2, period, args.blocks)
    out = {
        **base,
        "g2_zero": _f(r.g2_zero),
        "g2_zero_stderr": _f(r.g2_zero_stderr),
        "raw": {"g2_zero": _f(r.g2_zero), "g2_zero_stderr": _f(r.g2_zero_stderr)},
        "background_corrected": corrected,
        "g2_zero_raw": _f(r.g2_zero),
        "g2_zero_raw_stderr": _f(r.g2_zero_stderr),
        "g2_zero_corrected": None if corrected is None else _f(corrected["g2_zero"]),
        "g2_zero_corrected_stderr": None if corrected is None else _f(corrected["g2_zero_stderr"]),
        "method": r.method,
        "window": _window_text(r),
        "window_ps": _f(r.window_ps),
        "n_photons": [int(r.n1), int(r.n2)],
        "duration_s": _f(r.duration_ps * 1e-12),
        "details": {k: (_f(v) if isinstance(v, float) else v) for k, v in r.details.items()},
        "bootstrap": None if boot is None else boot.to_json(),
    }
    lines = [
        f"{args.file}: g2(0) = {r.g2_zero:.4f} ± {r.g2_zero_stderr:.4f}  ({r.method}, {mode}, channels {a},{b})",
        f"  photons {r.n1} + {r.n2} in {r.duration_ps * 1e-12:.3g} s; window {r.window_ps / 1e3:.4g} ns",
    ]
    if corrected:
        lines.append(
            f"  background-corrected (rho = {rho:.3f}, {rho_source}): "
            f"{corrected['g2_zero']:.4f} ± {corrected['g2_zero_stderr']:.4f}"
        )
    if boot is not None:
        lines.append(
            f"  block bootstrap ({boot.n_blocks} blocks): stderr {boot.stderr:.4f} "
            f"(analytic {boot.analytic_stderr:.4f}); "
            + ("stationary" if boot.stationary
               else "NON-STATIONARY (blinking or drift): trust the bootstrap error")
        )
    if args.plot:
        def draw(ax):
            x = 0.5 * (r.edges_ps[:-1] + r.edges_ps[1:]) * 1e-3
            ax.plot(x, r.g2_curve, lw=0.8, drawstyle="steps-mid")
            ax.set_xlabel("delay (ns)")
            ax.set_ylabel("g2 (normalised)" if r.mode == "cw" else "coincidences / mean side peak")
            ax.set_title(f"g2(0) = {r.g2_zero:.3f} ± {r.g2_zero_stderr:.3f} ({r.method})")

        _save_plot(args.plot, draw)
        lines.append(f"  plot: {args.plot}")
    _emit(args, out, lines)
    return 0


def _window_text(r) -> str:
    if r.method == "pulsed_area_ratio":
        n = r.details.get("n_side_peaks", 0)
        return f"one period ({r.window_ps:.0f} ps) centred on the centre peak and on each of {n} side peaks"
    if r.method == "pulsed_overlap_fit":
        return f"fit of the histogram over ±{r.window_ps:.0f} ps around the centre peak"
    return (
        f"fit of the histogram over ±{r.window_ps:.0f} ps ({r.details.get('bin_ps', '?')} ps bins)"
    )


# ----------------------------------------------------------------------------- lifetime


def run_lifetime(args: argparse.Namespace) -> int:
    import numpy as np

    from sdl.analysis.lifetime import decay_histogram, fit_lifetime
    from sdl.analysis.photon_frontend import aligned_decay_delays

    data, stream = _load(args)
    period = stream.sync_period_ps
    if period <= 0:
        raise AnalysisInputError(
            f"{args.file}: a lifetime needs pulsed data: the file has no sync period, give --rep-rate HZ"
        )
    dets = _detectors(data, stream, args.channels)
    try:
        bin_ps = args.bin_ps or int(
            max(round(data.resolution_ps) if data.is_t3 else 1, period // 1024, 1)
        )
        dl, shifts, phase_reference = aligned_decay_delays(stream, dets, bin_ps)
        if dl.size < 50:
            out = {"file": args.file, "no_outcome": "too_few_counts", "detail": f"{dl.size} photons"}
            _emit(args, out, [f"lifetime: no outcome (too_few_counts): {dl.size} photons"])
            return 1
        e, c = decay_histogram(dl, period, bin_ps)
        fit = fit_lifetime(c, e, period, n_exp=args.n_exp)
    except ValueError as e:
        raise _value_error(args, e) from None
    out = {
        "file": args.file,
        "sync_period_ps": period,
        "channels": dets,
        "bin_ps": bin_ps,
        "phase_reference": phase_reference,
        "detector_shifts_ps": shifts,
        "method": "poisson_ml_gaussian_irf",
        **fit.to_json(),
    }
    taus = ", ".join(
        f"{t / 1e3:.4g} ± {s / 1e3:.2g}"
        for t, s in zip(fit.taus_ps, fit.taus_stderr_ps, strict=True)
    )
    lines = [
        f"{args.file}: lifetimes (ns) {taus}",
        f"  amplitude-weighted {fit.tau_amp_ps / 1e3:.4g} ± {fit.tau_amp_stderr_ps / 1e3:.2g} ns, "
        f"intensity-weighted {fit.tau_int_ps / 1e3:.4g} ± {fit.tau_int_stderr_ps / 1e3:.2g} ns",
        f"  IRF sigma {fit.irf_sigma_ps:.0f} ps, shift {fit.shift_ps:.0f} ps, S/(S+B) {fit.signal_fraction:.3f}, "
        f"chi2/dof {fit.chi2_dof:.3f}",
    ]
    if args.plot:
        def draw(ax):
            ax.semilogy(0.5 * (e[:-1] + e[1:]) * 1e-3, np.maximum(c, 0.5), ".", ms=2)
            ax.set_xlabel("delay (ns)")
            ax.set_ylabel("counts")
            ax.set_title(f"tau_amp = {fit.tau_amp_ps / 1e3:.3g} ns")

        _save_plot(args.plot, draw)
        lines.append(f"  plot: {args.plot}")
    _emit(args, out, lines)
    return 0


# ----------------------------------------------------------------------------- blinking


def run_blinking(args: argparse.Namespace) -> int:
    import numpy as np

    from sdl.analysis.blinking import analyze_blinking

    data, stream = _load(args)
    dets = _detectors(data, stream, args.channels)
    sel = np.isin(data.channels, np.asarray(dets))
    if not (args.bin_ms > 0):
        raise AnalysisInputError(f"--bin-ms must be > 0, got {args.bin_ms}")
    try:
        r = analyze_blinking(data.timestamps_ps[sel], method=args.method,
                             bin_ps=int(round(args.bin_ms * 1e9)), alpha=args.alpha)
    except ValueError as e:
        raise _value_error(args, e) from None
    out = {"file": args.file, "channels": dets, **r.to_json()}

    def fmt(fit):
        return (
            "n/a (too few dwells)"
            if fit is None
            else f"{fit.alpha:.3f} ± {fit.alpha_stderr:.3f} (t_min {fit.t_min * 1e3:.3g} ms, n {fit.n_tail})"
        )

    lines = [
        f"{args.file}: on-fraction {r.on_fraction:.3f} ({r.method}); levels on {r.levels_cps[0]:.4g} cps, off {r.levels_cps[1]:.4g} cps",
        f"  alpha_on  {fmt(r.on_fit)}",
        f"  alpha_off {fmt(r.off_fit)}",
    ]
    if r.levels is not None:
        lv = ", ".join(
            f"{rate:.4g} cps ({occ:.0%}, {'on' if on else 'off'})"
            for rate, occ, on in zip(r.levels.rates_cps, r.levels.occupancy, r.level_on, strict=True)
        )
        lines.insert(1, f"  {r.levels.n_levels} intensity level(s) by BIC: {lv}")
    if args.plot:
        def draw(ax):
            x = (r.trace_edges_ps[:-1] - r.trace_edges_ps[0]) * 1e-12
            ax.plot(x, r.trace_counts, lw=0.5)
            ax.set_xlabel("time (s)")
            ax.set_ylabel(f"counts / {args.bin_ms:g} ms")

        _save_plot(args.plot, draw, size=(8, 3))
        lines.append(f"  plot: {args.plot}")
    _emit(args, out, lines)
    return 0
