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

MATERIALS = ("CdSe", "CsPbBr3", "Mn:ZnSe", "CdTe", "CdS", "PbS")


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
    p.add_argument("file", metavar="FILE.csv", help="spectrum CSV file (wavelength, value)")
    p.add_argument("--kind", choices=("absorbance", "pl"), required=True,
                   help="absorbance (decadic) or pl (dark-subtracted intensity)")
    p.add_argument("--material", choices=MATERIALS, default="CdSe",
                   help="sizing-curve material (default CdSe)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--plot", metavar="PNG", help="write a plot of the spectrum and the fit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sdl.analysis.csvio import read_spectrum_csv
    from sdl.analysis.estimate import Estimate
    from sdl.analysis.score import score_spectrum

    spec = read_spectrum_csv(args.file)
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
    try:
        fig.savefig(path, dpi=100)
    except OSError as e:
        raise AnalysisInputError(f"{path}: cannot write plot: {e.strerror or e}") from None
    finally:
        plt.close(fig)
