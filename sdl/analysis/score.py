"""Score one raw measurement: raw counts -> outcomes, each an Estimate or a NoOutcome.

`score(raw, outcomes, material)` computes only what the requested outcome names need,
sharing intermediate results (absorbance spectrum, 1S peak, PL band). Outcome names
(`sdl.schema.campaign.OUTCOME_NAMES`):

| name            | from                                                         |
|-----------------|--------------------------------------------------------------|
| abs_peak_nm     | 1S absorption peak (`peaks.first_exciton_peak`)              |
| diameter_nm     | sizing curve at the 1S peak (`sizing.diameter_from_peak`)    |
| size_dispersion | red-side 1S width (`sizing.size_dispersion`)                 |
| yield           | 1S absorbance x eps x atoms per dot vs `feed_metal_molar`    |
| pl_peak_nm      | host exciton PL band (`peaks.pl_band`)                       |
| fwhm_nm/_mev    | PL band FWHM on I(lambda) / I(E)                             |
| plqy            | relative to the reference dye (`plqy.relative_plqy`)         |
| mn_ratio        | Mn / exciton PL band areas (`dopant.mn_exciton_ratio`)       |
| g2_zero         | photon stream (`sdl.analysis.g2.g2_zero_from_stream`)        |
| count_rate_kcps | photon stream: detected photons / acquisition_s / 1000       |

Rules: a measurement with `failure` set gives NoOutcome("failure:<reason>") for every
outcome; a missing metadata key needed by an outcome gives
NoOutcome("missing_metadata:<key>"); saturated pixels in the analysed region give
NoOutcome("saturated"); never a made-up number. For "Mn:ZnSe" the PL band outcomes
describe the host exciton band (searched blue of 540 nm), not the Mn band.

The raw measurement is a `sdl.vocab.measurement.RawMeasurement` (read by attribute, so one
loaded from an HDF5 raw file serves as well).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from sdl.analysis.absorbance import AbsorbanceSpectrum, absorbance_from_counts
from sdl.analysis.errors import AnalysisInputError
from sdl.analysis.estimate import Estimate, NoOutcome, Outcome
from sdl.analysis.exciton_peak import ExcitonPeak, first_exciton_peak
from sdl.analysis.measurement import meta_float
from sdl.analysis.pl_band import PlBand, pl_band
from sdl.analysis.sizing import (
    SizingCurve,
    chemical_yield,
    diameter_from_peak,
    size_dispersion,
    sizing_curve,
)
from sdl.analysis.spectral_kernels import wpolyfit

#: Outcome names this module can produce.
SPECTRAL_OUTCOMES = (
    "abs_peak_nm",
    "pl_peak_nm",
    "fwhm_nm",
    "fwhm_mev",
    "plqy",
    "diameter_nm",
    "size_dispersion",
    "mn_ratio",
    "yield",
    "g2_zero",
    "count_rate_kcps",
)

#: PL analysis starts this far (nm) above the excitation line (scattered laser).
EXCITATION_MARGIN_NM = 15.0
#: Host-exciton PL window upper bound for Mn-doped hosts, nm (blue of the Mn band).
DOPED_EXCITON_MAX_NM = 540.0
#: Half width (nm) of the window for the absorbance at the excitation wavelength.
EXCITATION_WINDOW_NM = 3.0
#: Integrated PL must exceed this many standard errors (Poisson) for a PLQY.
PL_SIGNIFICANCE = 5.0
#: Largest g2(0) standard error worth recording: beyond it the value cannot tell a single
#: emitter (g2 < 0.5) from a classical source (g2 >= 1).
MAX_G2_STDERR = 0.25


def score(raw: Any, outcomes: Sequence[str], material: str | None = None) -> dict[str, Outcome]:
    """Compute the requested outcomes from one raw measurement.

    Args:
        raw: a `sdl.vocab.measurement.RawMeasurement` (or an object with its attributes).
        outcomes: outcome names, a subset of `SPECTRAL_OUTCOMES`.
        material: "CdSe", "CsPbBr3", "Mn:ZnSe" (or another key of sizing_curves.toml);
            defaults to `raw.metadata["material"]`.

    Returns:
        {name: Estimate | NoOutcome} for every requested name, in the given order.
    """
    names = list(dict.fromkeys(outcomes))
    failure = getattr(raw, "failure", None)
    if failure is not None:
        reason = getattr(failure, "reason", None) or getattr(failure, "kind", "unknown")
        no = NoOutcome(f"failure:{reason}", str(getattr(failure, "detail", "")))
        return {n: no for n in names}
    ctx = _Context(raw, material)
    out: dict[str, Outcome] = {}
    for name in names:
        fn = _HANDLERS.get(name)
        if fn is None:
            out[name] = NoOutcome("unknown_outcome", f"{name!r} is not a spectral outcome")
            continue
        out[name] = fn(ctx)
    return out


#: Markers of the PL band outcomes that mean "no emission above noise".
NO_BAND_MARKERS = frozenset({"flat_spectrum", "no_peak", "too_few_pixels"})


def consistency_problems(outcomes: dict[str, Outcome | dict]) -> list[str]:
    """Contradictions between the outcomes of one measurement ([] when they agree):
    a PLQY or g2(0) value beside a PL band marked as absent, or "no absorbance at
    excitation" beside a measured PL peak. Takes Outcome objects or their JSON."""
    def reason(name: str) -> str | None:
        o = outcomes.get(name)
        if isinstance(o, NoOutcome):
            return o.reason
        return o.get("no_outcome") if isinstance(o, dict) else None

    def has_value(name: str) -> bool:
        o = outcomes.get(name)
        return isinstance(o, Estimate) or (isinstance(o, dict) and o.get("value") is not None)

    problems = []
    band_absent = reason("pl_peak_nm") in NO_BAND_MARKERS
    for name in ("plqy", "g2_zero"):
        if band_absent and has_value(name):
            problems.append(f"{name} has a value beside pl_peak_nm={reason('pl_peak_nm')}")
    if has_value("pl_peak_nm") and reason("plqy") == "no_absorbance_at_excitation":
        problems.append("plqy=no_absorbance_at_excitation beside a measured PL peak")
    return problems


def _step(*needs: str):
    """Make a `_Context` method a memoised analysis step: on first call the steps named in
    `needs` are computed in order, the first NoOutcome among them is the step's result,
    else the method runs with their values as arguments. Later calls return the result."""

    def wrap(fn):
        key = fn.__name__

        @functools.wraps(fn)
        def step(self):
            if key not in self._cache:
                values = []
                for name in needs:
                    v = getattr(self, name)()
                    if isinstance(v, NoOutcome):
                        self._cache[key] = v
                        return v
                    values.append(v)
                self._cache[key] = fn(self, *values)
            return self._cache[key]

        return step

    return wrap


class _Context:
    """Lazily computed, shared intermediate results for one measurement."""

    def __init__(self, raw: Any, material: str | None):
        self.raw = raw
        self.meta = dict(getattr(raw, "metadata", {}) or {})
        self.material = material if material is not None else self.meta.get("material")
        self._cache: dict[str, Any] = {}

    def memo(self, key: str, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    # ------------------------------------------------------------------ inputs
    def wavelengths(self) -> np.ndarray:
        return self.memo("wl", lambda: np.asarray(self.raw.wavelengths_nm, dtype=np.float64))

    def saturation(self) -> float | NoOutcome:
        return self.memo("sat", lambda: meta_float(self.meta, "saturation_counts"))

    def curve(self) -> SizingCurve | NoOutcome:
        def make():
            if self.material is None:
                return NoOutcome("missing_metadata:material", "no material given")
            return sizing_curve(str(self.material))

        return self.memo("curve", make)

    # ------------------------------------------------------------------ absorbance
    @_step("saturation")
    def absorbance(self, sat: float) -> AbsorbanceSpectrum | NoOutcome:
        r = self.raw
        try:
            return absorbance_from_counts(
                self.wavelengths(), r.abs_dark_counts, r.abs_reference_counts,
                r.abs_sample_counts, saturation_counts=sat,
            )
        except AnalysisInputError as e:
            return NoOutcome("bad_counts", str(e))

    @_step("absorbance")
    def exciton(self, spec: AbsorbanceSpectrum) -> ExcitonPeak | NoOutcome:
        pk = first_exciton_peak(spec.wavelengths_nm, spec.absorbance, spec.stderr)
        sat = spec.saturated
        if isinstance(pk, NoOutcome):
            if np.any(sat):
                return NoOutcome("saturated", f"{int(sat.sum())} absorbance pixels at "
                                 "full scale and no usable excitonic peak")
            return pk
        if np.any(sat):
            wl = spec.wavelengths_nm
            near = np.abs(wl - pk.wavelength_nm.value) <= 40.0
            if np.any(sat & near):
                return NoOutcome("saturated", "detector full scale within 40 nm of the 1S peak")
        return pk

    @_step("curve", "exciton")
    def diameter(self, curve: SizingCurve, pk: ExcitonPeak) -> Estimate | NoOutcome:
        return diameter_from_peak(curve, pk.wavelength_nm)

    # ------------------------------------------------------------------ PL
    @_step("saturation")
    def pl_net(self, sat: float) -> tuple[np.ndarray, np.ndarray, float] | NoOutcome:
        """(net counts, variance, low_nm) of the PL channel, or NoOutcome."""
        wl = self.wavelengths()
        s = np.asarray(self.raw.pl_sample_counts, dtype=np.float64)
        d = np.asarray(self.raw.pl_dark_counts, dtype=np.float64)
        if s.shape != wl.shape or d.shape != wl.shape:
            return NoOutcome("bad_shape", "PL arrays differ in length from wavelengths")
        if not (np.all(np.isfinite(s)) and np.all(np.isfinite(d))):
            return NoOutcome("non_finite", "PL counts contain NaN or inf")
        exc = self.meta.get("excitation_nm")
        low = -np.inf
        if exc is not None and np.isfinite(float(exc)):
            low = float(exc) + EXCITATION_MARGIN_NM
        window = wl >= low
        if np.any(s[window] >= sat):
            n_sat = int(np.sum(s[window] >= sat))
            return NoOutcome("saturated", f"{n_sat} PL pixels at detector full scale")
        var = np.maximum(s, 0.0) + np.maximum(d, 0.0)
        var = np.maximum(var, 1.0)
        return s - d, var, low

    @_step("pl_net")
    def pl(self, net: tuple[np.ndarray, np.ndarray, float]) -> PlBand | NoOutcome:
        y, var, low = net
        high = np.inf
        if self.material is not None and str(self.material).startswith("Mn:"):
            high = DOPED_EXCITON_MAX_NM
        return pl_band(self.wavelengths(), y, var, range_nm=(low, high))


# ---------------------------------------------------------------------- handlers


def _pick(value, attr: str) -> Outcome:
    return value if isinstance(value, NoOutcome) else getattr(value, attr)


def _abs_peak(ctx: _Context) -> Outcome:
    return _pick(ctx.exciton(), "wavelength_nm")


def _diameter(ctx: _Context) -> Outcome:
    return ctx.diameter()


def _size_dispersion(ctx: _Context) -> Outcome:
    d = ctx.diameter()
    if isinstance(d, NoOutcome):
        return d
    pk = ctx.exciton()
    if isinstance(pk.hwhm_red_ev, NoOutcome):
        return pk.hwhm_red_ev
    return size_dispersion(ctx.curve(), pk.wavelength_nm, pk.hwhm_red_ev, d)


def _yield(ctx: _Context) -> Outcome:
    d = ctx.diameter()
    if isinstance(d, NoOutcome):
        return d
    vals = {}
    for key in ("path_length_cm", "sample_dilution", "feed_metal_molar"):
        v = meta_float(ctx.meta, key)
        if isinstance(v, NoOutcome):
            return v
        if v <= 0:
            return NoOutcome(f"missing_metadata:{key}", f"metadata {key!r} must be > 0")
        vals[key] = v
    pk = ctx.exciton()
    fwhm = None
    if isinstance(pk.hwhm_red_ev, Estimate):
        fwhm = Estimate(2.0 * pk.hwhm_red_ev.value, 2.0 * pk.hwhm_red_ev.stderr)
    return chemical_yield(ctx.curve(), pk.absorbance, d, vals["path_length_cm"],
                          vals["sample_dilution"], vals["feed_metal_molar"], fwhm_1s_ev=fwhm)


def _pl_peak(ctx: _Context) -> Outcome:
    return _pick(ctx.pl(), "peak_nm")


def _fwhm_nm(ctx: _Context) -> Outcome:
    return _pick(ctx.pl(), "fwhm_nm")


def _fwhm_mev(ctx: _Context) -> Outcome:
    return _pick(ctx.pl(), "fwhm_mev")


def _plqy(ctx: _Context) -> Outcome:
    """PLQY only from a PL band significantly above noise and a measurable absorbance at
    the excitation wavelength; never beside `flat_spectrum` (see `consistency_problems`)."""
    from sdl.analysis.plqy import integrated_counts, relative_plqy

    band = ctx.pl()
    if isinstance(band, NoOutcome):
        if band.reason in NO_BAND_MARKERS:
            return NoOutcome("no_pl_band", f"no PL band to give a yield for ({band.reason}: "
                             f"{band.detail})")
        if band.reason != "fit_failed":  # a band is there, only its shape is unclean
            return band
    vals = {}
    for key in ("excitation_nm", "reference_plqy", "reference_absorbance", "solvent_index",
                "reference_solvent_index"):
        v = meta_float(ctx.meta, key)
        if isinstance(v, NoOutcome):
            return v
        vals[key] = v
    net = ctx.pl_net()
    if isinstance(net, NoOutcome):
        return net
    _, _, low = net
    spec = ctx.absorbance()
    if isinstance(spec, NoOutcome):
        return spec
    a_exc = _absorbance_at(spec, vals["excitation_nm"])
    if isinstance(a_exc, NoOutcome):
        return a_exc
    wl = ctx.wavelengths()
    raw = ctx.raw
    ref_counts = np.asarray(raw.pl_reference_counts, dtype=np.float64)
    if np.any(ref_counts[wl >= low] >= ctx.saturation()):
        return NoOutcome("saturated", "reference dye PL at detector full scale")
    f = integrated_counts(wl, raw.pl_sample_counts, raw.pl_dark_counts, low_nm=low)
    if not f.value > PL_SIGNIFICANCE * f.stderr:
        return NoOutcome("no_pl_band", f"integrated PL {f.value:.3g} +- {f.stderr:.2g} counts "
                         f"is not {PL_SIGNIFICANCE:g} sigma above noise")
    f_ref = integrated_counts(wl, ref_counts, raw.pl_dark_counts, low_nm=low)
    out = relative_plqy(f, f_ref, a_exc, Estimate(vals["reference_absorbance"], 0.0),
                        vals["reference_plqy"], vals["solvent_index"],
                        vals["reference_solvent_index"])
    if isinstance(out, NoOutcome) and out.reason == "no_absorbance_at_excitation":
        # The sample emits (a PL band was found) yet its absorbance is below noise: say
        # why instead of the contradictory "no absorbance" next to a PL peak.
        where = f"at {band.peak_nm.value:.1f} nm" if isinstance(band, PlBand) else "found"
        return NoOutcome("weak_absorbance_at_excitation",
                         f"PL band {where}, but the absorbance at "
                         f"{vals['excitation_nm']:.0f} nm ({a_exc.value:.3g} +- "
                         f"{a_exc.stderr:.2g}) is below 3 sigma: {out.detail}")
    return out


def _absorbance_at(spec: AbsorbanceSpectrum, wavelength_nm: float) -> Estimate | NoOutcome:
    """Absorbance at one wavelength: weighted straight line through the good pixels within
    +-EXCITATION_WINDOW_NM (at least the two nearest pixels)."""
    wl = spec.wavelengths_nm
    if not wl[0] <= wavelength_nm <= wl[-1]:
        return NoOutcome("excitation_outside_range",
                         f"excitation {wavelength_nm:.1f} nm outside the spectrometer range")
    near = np.abs(wl - wavelength_nm) <= EXCITATION_WINDOW_NM
    if np.count_nonzero(near) < 2:
        k = int(np.searchsorted(wl, wavelength_nm))
        near = np.zeros(wl.shape, bool)
        near[max(k - 1, 0):k + 1] = True
    if np.any(spec.flags[near] != 0):
        reason = "saturated" if np.any(spec.saturated[near]) else "opaque_at_excitation"
        return NoOutcome(reason, "absorbance at the excitation wavelength is not measurable")
    idx = np.flatnonzero(near)
    lo, hi = int(idx[0]), int(idx[-1]) + 1
    var = spec.stderr**2
    coef, cov, npts, _ = wpolyfit(wl, spec.absorbance, var, lo, hi, wavelength_nm, 1.0, 1)
    if npts < 2 or not np.isfinite(coef[0]):
        return NoOutcome("opaque_at_excitation", "too few pixels at the excitation wavelength")
    return Estimate(float(coef[0]), float(np.sqrt(cov[0, 0])))


def _mn_ratio(ctx: _Context) -> Outcome:
    from sdl.analysis.dopant import mn_exciton_ratio

    band = ctx.pl()
    if isinstance(band, NoOutcome):
        return band
    net = ctx.pl_net()
    y, var, low = net
    return mn_exciton_ratio(ctx.wavelengths(), y, var, band.peak_nm.value, low_nm=low)


def _g2_zero(ctx: _Context) -> Outcome:
    """g2(0) only from a stream of an emitting sample (a PL band above noise) with enough
    coincidences for a stderr below MAX_G2_STDERR."""
    raw = ctx.raw
    ts = getattr(raw, "photon_timestamps_ps", None)
    ch = getattr(raw, "photon_channels", None)
    if ts is None or ch is None or len(ts) == 0:
        return NoOutcome("no_photons", "the measurement has no photon stream")
    band = ctx.pl()
    if isinstance(band, NoOutcome) and band.reason in NO_BAND_MARKERS:
        return NoOutcome("no_emission", f"the sample shows no PL band ({band.reason}), so the "
                         "photon stream is background, not emission from the dots")
    from sdl.analysis.g2 import g2_zero_from_stream

    duration = ctx.meta.get("acquisition_s")
    g2 = g2_zero_from_stream(
        np.asarray(ts, dtype=np.int64), np.asarray(ch, dtype=np.uint8),
        int(getattr(raw, "sync_period_ps", 0) or 0),
        duration_s=None if duration is None else float(duration),
    )
    if isinstance(g2, Estimate) and not g2.stderr <= MAX_G2_STDERR:
        return NoOutcome("too_few_counts", f"g2(0) = {g2.value:.3g} +- {g2.stderr:.2g}: too "
                         f"few coincidences for a stderr below {MAX_G2_STDERR:g}")
    return g2


# Equal time blocks of the batch-means standard error of the count rate.
COUNT_RATE_BLOCKS = 10


def _count_rate_kcps(ctx: _Context) -> Outcome:
    """Detected photons (both detectors) per second of acquisition, in kcps.

    Stderr: batch means over `COUNT_RATE_BLOCKS` equal time blocks of the acquisition
    (sd of the block rates / sqrt(blocks)), floored at the Poisson sqrt(N) / T (an empty
    stream of known length gives 0 +- 1 / T). Blinking (power-law on/off dwell times,
    Kuno et al., J. Chem. Phys. 115, 1028 (2001)) scatters one dot's rate far beyond
    Poisson counting noise; batch means (e.g. Flyvbjerg & Petersen, J. Chem. Phys. 91,
    461 (1989)) see the part of it on time scales shorter than a block, Poisson none."""
    raw = ctx.raw
    ts = getattr(raw, "photon_timestamps_ps", None)
    if ts is None or getattr(raw, "photon_channels", None) is None:
        return NoOutcome("no_photons", "the measurement has no photon stream")
    duration = ctx.meta.get("acquisition_s")
    if duration is None:
        return NoOutcome("missing_metadata:acquisition_s", "count rate needs the acquisition time")
    t = float(duration)
    if not t > 0:
        return NoOutcome("missing_metadata:acquisition_s", f"acquisition_s = {duration!r}")
    n = len(ts)
    se = max(np.sqrt(n), 1.0) / t / 1e3
    if n > 1:
        # time tags count from the start of the acquisition (Photon-HDF5, PTU)
        block = np.clip(np.asarray(ts, dtype=np.int64) * COUNT_RATE_BLOCKS
                        // max(int(round(t * 1e12)), 1), 0, COUNT_RATE_BLOCKS - 1)
        rates = np.bincount(block, minlength=COUNT_RATE_BLOCKS) / (t / COUNT_RATE_BLOCKS) / 1e3
        se = max(se, float(np.std(rates, ddof=1)) / np.sqrt(COUNT_RATE_BLOCKS))
    return Estimate(n / t / 1e3, se)


_HANDLERS = {
    "abs_peak_nm": _abs_peak,
    "diameter_nm": _diameter,
    "size_dispersion": _size_dispersion,
    "yield": _yield,
    "pl_peak_nm": _pl_peak,
    "fwhm_nm": _fwhm_nm,
    "fwhm_mev": _fwhm_mev,
    "plqy": _plqy,
    "mn_ratio": _mn_ratio,
    "g2_zero": _g2_zero,
    "count_rate_kcps": _count_rate_kcps,
}


# ---------------------------------------------------------------------- processed spectra


def scatter_noise(values: np.ndarray) -> float:
    """Per-point noise sigma of a smooth spectrum from its scatter: the robust (MAD) spread
    of second differences divided by sqrt(6) (white noise: var(y[i-1]-2y[i]+y[i+1]) = 6
    sigma^2). Floored at 1e-6 of the largest |value| so a noise-free file still fits."""
    y = np.asarray(values, dtype=np.float64)
    d2 = y[2:] - 2.0 * y[1:-1] + y[:-2]
    mad = float(np.median(np.abs(d2 - np.median(d2)))) if d2.size else 0.0
    sigma = 1.4826 * mad / np.sqrt(6.0)
    floor = 1e-6 * float(np.max(np.abs(y))) if y.size else 1e-12
    return max(sigma, floor, 1e-12)


def scatter_noise_profile(values: np.ndarray, window: int = 41) -> np.ndarray:
    """(P,) per-point noise sigma: `scatter_noise` in a sliding window of `window` points
    (robust median of |second differences| / sqrt(6) x 1.4826), so shot noise that grows
    with the signal is followed. Floored like `scatter_noise`; never below 1e-12."""
    from numpy.lib.stride_tricks import sliding_window_view

    y = np.asarray(values, dtype=np.float64)
    n = y.size
    floor = max(1e-6 * float(np.max(np.abs(y))) if n else 0.0, 1e-12)
    if n < window + 2:
        return np.full(n, scatter_noise(y))
    d2 = np.abs(y[2:] - 2.0 * y[1:-1] + y[:-2])
    local = np.median(sliding_window_view(d2, window), axis=1) * 1.4826 / np.sqrt(6.0)
    pad_lo = (n - local.size) // 2
    prof = np.concatenate((np.full(pad_lo, local[0]), local,
                           np.full(n - pad_lo - local.size, local[-1])))
    return np.maximum(prof, floor)


def score_spectrum(
    kind: str, wavelengths_nm: np.ndarray, values: np.ndarray, material: str
) -> tuple[dict[str, Outcome], ExcitonPeak | PlBand | NoOutcome]:
    """Outcomes from one processed spectrum (no raw counts), e.g. read from a CSV file.

    Without counts there is no shot-noise model: the per-point noise is estimated from the
    spectrum's own local scatter (`scatter_noise_profile`).

    Args:
        kind: "absorbance" (values are decadic absorbance) or "pl" (values are PL
            intensity per pixel, dark-subtracted, any unit).
        wavelengths_nm: (P,) strictly increasing wavelengths, nm.
        values: (P,) the spectrum.
        material: sizing-curve material ("CdSe", "CsPbBr3", "Mn:ZnSe", ...).

    Returns:
        (outcomes, feature): outcomes keyed by name — abs_peak_nm, diameter_nm,
        size_dispersion for "absorbance"; pl_peak_nm, fwhm_nm, fwhm_mev (+ mn_ratio for
        Mn-doped materials) for "pl" — and the fitted ExcitonPeak / PlBand (or NoOutcome).
    """
    wl = np.asarray(wavelengths_nm, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    sigma = scatter_noise_profile(y)
    curve = sizing_curve(material)
    out: dict[str, Outcome] = {}
    if kind == "absorbance":
        pk = first_exciton_peak(wl, y, sigma)
        if isinstance(pk, NoOutcome):
            return {k: pk for k in ("abs_peak_nm", "diameter_nm", "size_dispersion")}, pk
        out["abs_peak_nm"] = pk.wavelength_nm
        if isinstance(curve, NoOutcome):
            out["diameter_nm"] = out["size_dispersion"] = curve
            return out, pk
        d = diameter_from_peak(curve, pk.wavelength_nm)
        out["diameter_nm"] = d
        if isinstance(d, NoOutcome):
            out["size_dispersion"] = d
        elif isinstance(pk.hwhm_red_ev, NoOutcome):
            out["size_dispersion"] = pk.hwhm_red_ev
        else:
            out["size_dispersion"] = size_dispersion(curve, pk.wavelength_nm, pk.hwhm_red_ev, d)
        return out, pk
    if kind == "pl":
        var = sigma * sigma
        doped = material.startswith("Mn:")
        band = pl_band(wl, y, var, range_nm=(-np.inf, DOPED_EXCITON_MAX_NM) if doped else None)
        names = ("pl_peak_nm", "fwhm_nm", "fwhm_mev") + (("mn_ratio",) if doped else ())
        if isinstance(band, NoOutcome):
            return {k: band for k in names}, band
        out = {"pl_peak_nm": band.peak_nm, "fwhm_nm": band.fwhm_nm, "fwhm_mev": band.fwhm_mev}
        if doped:
            from sdl.analysis.dopant import mn_exciton_ratio

            out["mn_ratio"] = mn_exciton_ratio(wl, y, var, band.peak_nm.value)
        return out, band
    raise ValueError(f"kind must be 'absorbance' or 'pl', got {kind!r}")
