"""`sdl show RUN EXP_ID [--plot PNG] [--csv FILE] [--json]`: one experiment of a run:
conditions, outcomes with units, status and failure, the raw file (sha256-checked), its
spectra and photons. `--plot` draws absorbance, PL and (with photons) the coincidence
histogram; `--csv` writes the spectra, one row per pixel:
wavelength_nm, abs_dark, abs_reference, abs_sample, absorbance, pl_dark, pl_sample,
pl_reference, pl_net.
"""

from __future__ import annotations

import argparse

CSV_HEADER = ("wavelength_nm", "abs_dark", "abs_reference", "abs_sample", "absorbance",
              "pl_dark", "pl_sample", "pl_reference", "pl_net")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="one experiment: outcomes, raw spectra and photons")
    p.add_argument("run_dir", metavar="RUN", help="run directory")
    p.add_argument("experiment_id", metavar="EXP_ID", help="e.g. e0007")
    p.add_argument("--plot", metavar="PNG", help="write spectra (and g2) to this PNG")
    p.add_argument("--csv", metavar="FILE", help="write the spectra to this CSV")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from sdl.errors import SdlError
    from sdl.export import read_run
    from sdl.report.raw import load_checked
    from sdl.report.terms import unit

    campaign, st, _ = read_run(args.run_dir)
    e = st.experiments.get(args.experiment_id)
    if e is None:
        ids = sorted(st.experiments)
        span = f"{ids[0]}..{ids[-1]}" if ids else "none yet"
        raise SdlError(f"{args.run_dir}: no experiment {args.experiment_id!r} (this run has {span})")
    from pathlib import Path

    raw, why = load_checked(Path(args.run_dir), e) if e.raw_file else (None, "no raw file")
    if e.raw_file and raw is None and (args.plot or args.csv):
        raise SdlError(why)
    info = {"experiment_id": e.experiment_id, "status": e.status, "attempts": e.attempts,
            "conditions": e.conditions, "outcomes": e.outcomes, "failure": e.failure,
            "raw_file": e.raw_file, "raw_sha256": e.sha256,
            "photons": None if raw is None or raw.photon_timestamps_ps is None
            else int(len(raw.photon_timestamps_ps)),
            "device_log_lines": None if raw is None else len(raw.device_log or [])}
    if args.csv:
        if raw is None:
            raise SdlError(f"{e.experiment_id} has no raw file ({why}); nothing to write")
        _write_csv(args.csv, raw)
    if args.plot:
        if raw is None:
            raise SdlError(f"{e.experiment_id} has no raw file ({why}); nothing to plot")
        _plot(args.plot, e, raw)
    if args.json:
        from sdl.record import jsonable

        print(json.dumps(jsonable(info), indent=2))
        return 0
    print(f"{e.experiment_id}: {e.status} (attempts {e.attempts})")
    print("  conditions: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in e.conditions.items()))
    for name, o in e.outcomes.items():
        if o.get("value") is None:
            print(f"  {name:16s} n/a ({o.get('no_outcome')})")
        else:
            se = o.get("stderr")
            print(f"  {name:16s} {o['value']:.6g}" + (f" ± {se:.2g}" if se is not None else "")
                  + (f" {unit(name)}" if unit(name) not in ("", "fraction") else ""))
    if e.failure:
        f = e.failure
        print(f"  failure: {f.get('kind')}: {f.get('reason')}"
              + (f" — {f.get('detail')}" if f.get("detail") else ""))
    if e.raw_file:
        print(f"  raw file: {e.raw_file} sha256 {e.sha256}" + (f" ({why})" if raw is None else ""))
    if raw is not None:
        n = info["photons"]
        print(f"  spectra: {len(raw.wavelengths_nm)} pixels, "
              f"{raw.wavelengths_nm[0]:.1f}..{raw.wavelengths_nm[-1]:.1f} nm; photons: "
              + (f"{n} time tags" if n is not None else "none")
              + f"; device log: {info['device_log_lines']} lines")
    for path in (args.csv, args.plot):
        if path:
            print(f"  wrote {path}")
    return 0


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _write_csv(path: str, raw) -> None:
    import numpy as np

    from sdl.errors import SdlError
    from sdl.report.raw import absorbance, pl_counts

    cols = [raw.wavelengths_nm, raw.abs_dark_counts, raw.abs_reference_counts,
            raw.abs_sample_counts, absorbance(raw), raw.pl_dark_counts, raw.pl_sample_counts,
            raw.pl_reference_counts, pl_counts(raw)]
    table = np.column_stack([np.asarray(c, np.float64) for c in cols])
    try:
        np.savetxt(path, table, delimiter=",", header=",".join(CSV_HEADER), comments="",
                   fmt="%.10g")
    except OSError as err:
        raise SdlError(f"cannot write {path}: {err.strerror or err}") from None


def _plot(path: str, e, raw) -> None:
    from sdl.errors import SdlError
    from sdl.report.plots import _figure
    from sdl.report.raw import absorbance, coincidence_histogram, g2_window, pl_counts

    photons = raw.photon_timestamps_ps is not None and len(raw.photon_timestamps_ps) > 1
    fig, axes = _figure(11 if photons else 8, 3.4, 1, 3 if photons else 2)
    ax = axes[0]
    ax[0].plot(raw.wavelengths_nm, absorbance(raw), lw=1)
    ax[0].set(xlabel="wavelength (nm)", ylabel="absorbance (OD)", title=f"{e.experiment_id} absorbance")
    ax[1].plot(raw.wavelengths_nm, pl_counts(raw), lw=1, color="C3")
    ax[1].set(xlabel="wavelength (nm)", ylabel="PL counts (dark subtracted)",
              title=f"{e.experiment_id} PL")
    if photons:
        max_delay, bin_ps = g2_window(raw.sync_period_ps)
        h = coincidence_histogram(raw.photon_timestamps_ps, raw.photon_channels, max_delay, bin_ps)
        centres_ns = (h.edges_ps[:-1] + h.edges_ps[1:]) / 2e3
        ax[2].bar(centres_ns, h.counts, width=bin_ps / 1e3, color="C4")
        ax[2].set(xlabel="delay (ns)", ylabel="pairs per bin", title="coincidences")
    try:
        fig.savefig(path, dpi=90)
    except OSError as err:
        raise SdlError(f"cannot write {path}: {err.strerror or err}") from None
