"""`sdl simulate`: run one simulated experiment and print its hidden ground truth.

    sdl simulate --material CdSe --set temperature_c=260 --set residence_time_s=120 \
        [--conditions FILE.toml] [--seed N] [--photons] [--out raw.h5] [--plot spectra.png] [--json]

`--conditions` reads a TOML table of condition names (top level or under [conditions]);
`--set` entries override it. Bad names or values raise an `SdlError` naming the key and
the allowed range. `--out` writes the raw measurement in the run-directory HDF5 layout
(`sdl.rawfile`: /spectra/<field> datasets, /photon_data, JSON attributes).
"""

from __future__ import annotations

import argparse
import json
import math

from sdl.commands import save_figure
from sdl.errors import SdlError
from sdl.vocab.constants import MATERIALS

SUMMARY_KEYS = ("mean_diameter_nm", "size_dispersion", "abs_peak_nm", "pl_peak_nm", "fwhm_nm",
                "fwhm_mev", "plqy", "g2_zero_expected", "mn_ratio", "yield",
                "shell_thickness_nm", "unviable", "count_rate_kcps", "shell_material")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="run one simulated experiment and print the truth",
                       description="Run one experiment on the physics simulator.")
    p.add_argument("--material", choices=MATERIALS, default="CdSe", help="material (default CdSe)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                   help="set one condition (repeatable), e.g. temperature_c=260")
    p.add_argument("--conditions", metavar="FILE.toml", help="TOML file of conditions")
    p.add_argument("--seed", type=int, default=0, help="rig seed (default 0)")
    p.add_argument("--id", dest="experiment_id", default="sim0001", help="experiment id")
    p.add_argument("--failure-rate", type=float, default=0.0,
                   help="random equipment failure probability (default 0 here)")
    p.add_argument("--photons", action="store_true", help="also simulate a photon stream")
    p.add_argument("--out", metavar="RAW.h5", help="write the raw measurement (HDF5)")
    p.add_argument("--plot", metavar="PNG", help="plot absorbance and PL")
    p.add_argument("--json", action="store_true", help="print the truth as JSON")
    p.set_defaults(func=run)


def _parse_value(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _conditions(args: argparse.Namespace) -> dict:
    from sdl.vocab.conditions import CONDITIONS

    cond: dict = {}
    if args.conditions:
        import tomllib
        try:
            with open(args.conditions, "rb") as f:
                data = tomllib.load(f)
        except OSError as e:
            raise SdlError(f"--conditions {args.conditions}: cannot read: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise SdlError(f"--conditions {args.conditions}: not valid TOML: {e}") from None
        data = data.get("conditions", data)
        if not isinstance(data, dict):
            raise SdlError(f"--conditions {args.conditions}: expected a table of conditions")
        cond.update(data)
    for item in args.sets:
        if "=" not in item:
            raise SdlError(f"--set {item!r}: expected NAME=VALUE, e.g. temperature_c=260")
        k, v = item.split("=", 1)
        cond[k.strip()] = _parse_value(v.strip())
    for k in cond:
        if k not in CONDITIONS:
            raise SdlError(f"unknown condition {k!r}; allowed: {', '.join(sorted(CONDITIONS))}")
    from simulator.rig import ConditionError, check_conditions
    try:
        return check_conditions(cond)
    except ConditionError as e:
        raise SdlError(str(e)) from None


def run(args: argparse.Namespace) -> int:
    cond = _conditions(args)
    if not 0.0 <= args.failure_rate <= 1.0:
        raise SdlError(f"--failure-rate {args.failure_rate}: allowed [0, 1]")
    from simulator.rig import SimulatedRig

    rig = SimulatedRig(args.material, args.seed, failure_rate=args.failure_rate)
    rig.prepare()
    try:
        raw = rig.run(cond, args.experiment_id, photons=args.photons)
    finally:
        rig.close()
    if args.out:
        from sdl.rawfile import save_raw
        try:
            save_raw(raw, args.out)
        except OSError as e:
            raise SdlError(f"--out {args.out}: cannot write: {e.strerror}") from None
    if args.plot:
        _plot(args.plot, raw)
    truth = raw.truth or {}
    summary = {k: truth.get(k) for k in SUMMARY_KEYS if k in truth}
    if raw.has_photons:
        summary["photons_detected"] = int(len(raw.photon_timestamps_ps))
        summary["g2_zero_dot_expected"] = truth.get("g2_zero_dot_expected")
    failure = None if raw.failure is None else {"kind": raw.failure.kind,
                                                "reason": raw.failure.reason,
                                                "detail": raw.failure.detail}
    if args.json:
        print(json.dumps({"material": args.material, "conditions": raw.conditions,
                          "failure": failure, "truth": _clean(summary)}, indent=2))
        return 0
    print(f"material {args.material}  experiment {raw.experiment_id}  seed {args.seed}")
    if failure:
        print(f"failure          {failure['kind']}: {failure['reason']} ({failure['detail']})")
    for k, v in summary.items():
        print(f"{k:20s} {v:.4g}" if isinstance(v, float) else f"{k:20s} {v}")
    if args.out:
        print(f"raw measurement written to {args.out}")
    return 0


def _clean(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _plot(path: str, raw) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    wl = raw.wavelengths_nm
    with np.errstate(divide="ignore", invalid="ignore"):
        a = -np.log10((raw.abs_sample_counts - raw.abs_dark_counts)
                      / (raw.abs_reference_counts - raw.abs_dark_counts))
    fig, ax = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    ax[0].plot(wl, a, lw=0.8)
    ax[0].set_ylabel("absorbance")
    ax[1].plot(wl, raw.pl_sample_counts - raw.pl_dark_counts, lw=0.8, label="sample")
    ax[1].plot(wl, raw.pl_reference_counts - raw.pl_dark_counts, lw=0.8, label="reference dye")
    ax[1].set_xlabel("wavelength (nm)")
    ax[1].set_ylabel("PL counts")
    ax[1].legend()
    save_figure(fig, path, 120, lambda e: SdlError(f"--plot {path}: cannot write: {e.strerror}"))
