"""`sdl analyze spectrum FILE.csv --kind absorbance|pl --material CdSe [--json] [--plot PNG]`.

Reads a two-column CSV (header line, then `wavelength_nm,value`; rules in
`sdl.analysis.csvio`; a file in decreasing wavelength order is reversed and a note is
printed), finds the first excitonic peak (absorbance) or the PL band (pl), and prints the
outcomes with standard errors. `--json` prints `{name: {"value", "stderr"}}` or
`{name: {"no_outcome", "detail"}}`.
"""

from __future__ import annotations

import argparse
import json
import sys

from sdl.analysis.errors import AnalysisInputError
from sdl.commands import save_figure


def _sizing_materials() -> list[str]:
    """Materials with a sizing curve (`sdl/analysis/sizing_curves.toml`, aliases included)."""
    from sdl.analysis.sizing import load_sizing_curves

    return list(load_sizing_curves())


def register(kinds: argparse._SubParsersAction) -> None:
    p = kinds.add_parser(
        "spectrum",
        help="first excitonic peak / PL peak and width from a spectrum CSV",
        description=(
            "Analyse one spectrum CSV: a header line (first column name starting with "
            "'wavelength'), then wavelength_nm,value rows; blank lines and '#' comments "
            "are ignored. A file in decreasing wavelength order is reversed (a note is "
            "printed); duplicated or unordered wavelengths, non-numeric or non-finite "
            "cells, and fewer than 20 rows are errors naming the line. Without raw counts "
            "the noise is estimated from the spectrum's own scatter."
        ),
    )
    p.add_argument("file", metavar="FILE.csv|RAW.h5",
                   help="spectrum CSV, or a run's raw/<exp>.h5 file (absorbance from the "
                        "dark/reference/sample counts, PL = sample - dark)")
    p.add_argument("--kind", choices=("absorbance", "pl"), required=True,
                   help="absorbance (decadic) or pl (dark-subtracted intensity)")
    p.add_argument("--material", choices=_sizing_materials(), default=None,
                   help="sizing-curve material (default: the raw file's, else CdSe)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--plot", metavar="PNG", help="write a plot of the spectrum and the fit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sdl.analysis.csvio import read_spectrum_csv
    from sdl.analysis.estimate import Estimate
    from sdl.analysis.score import score_spectrum

    if args.file.lower().endswith((".h5", ".hdf5")):
        spec, material = _raw_spectrum(args.file, args.kind)
        args.material = args.material or material
    else:
        spec = read_spectrum_csv(args.file)
    args.material = args.material or "CdSe"
    if spec.reversed:
        print(f"note: {args.file}: wavelengths were in decreasing order; reversed",
              file=sys.stderr)
    outcomes, feature = score_spectrum(args.kind, spec.wavelengths_nm, spec.values,
                                       args.material)
    if args.plot:
        _plot(args.plot, args.kind, spec, outcomes)
    if args.json:
        print(json.dumps({k: v.to_json() for k, v in outcomes.items()}, indent=2))
        return 0
    for name, v in outcomes.items():
        if isinstance(v, Estimate):
            print(f"{name:16s} {v.value:.6g} +- {v.stderr:.2g}")
        else:
            print(f"{name:16s} no outcome: {v.reason}" + (f" ({v.detail})" if v.detail else ""))
    return 0


def _raw_spectrum(path: str, kind: str):
    """A `read_spectrum_csv`-like spectrum from a run's raw file (finite pixels only),
    and the material recorded in it (or None)."""
    from types import SimpleNamespace

    import numpy as np

    from sdl.errors import RecordError
    from sdl.rawfile import load_raw
    from sdl.report.raw import absorbance, pl_counts

    try:
        raw = load_raw(path)
    except RecordError as e:
        raise AnalysisInputError(str(e)) from None
    values = absorbance(raw) if kind == "absorbance" else pl_counts(raw)
    ok = np.isfinite(values)
    if ok.sum() < 20:
        raise AnalysisInputError(f"{path}: only {int(ok.sum())} pixels with a defined "
                                 f"{kind} (need 20)")
    header = ("wavelength_nm", "absorbance" if kind == "absorbance" else "pl_counts")
    spec = SimpleNamespace(wavelengths_nm=np.asarray(raw.wavelengths_nm, np.float64)[ok],
                           values=values[ok], reversed=False, header=header)
    material = (raw.metadata or {}).get("material")
    return spec, material if material in _sizing_materials() else None


def _plot(path: str, kind: str, spec, outcomes) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sdl.analysis.estimate import Estimate

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(spec.wavelengths_nm, spec.values, lw=1)
    key = "abs_peak_nm" if kind == "absorbance" else "pl_peak_nm"
    pk = outcomes.get(key)
    if isinstance(pk, Estimate):
        ax.axvline(pk.value, color="C3", ls="--", lw=1, label=f"{key} {pk.value:.1f} nm")
        ax.legend()
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel(spec.header[1])
    save_figure(fig, path, 100,
                lambda e: AnalysisInputError(f"{path}: cannot write plot: {e.strerror or e}"))
