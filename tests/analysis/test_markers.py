"""Every marker the analysis can record has one plain-language explanation, and the
scoring guards keep markers consistent with each other (no yield without emission)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.markers import MARKERS, PREFIXES, explain
from sdl.analysis.score import consistency_problems

ANALYSIS = Path(__file__).resolve().parents[2] / "sdl" / "analysis"


def _reasons_in_source() -> set[str]:
    found = set()
    for path in ANALYSIS.rglob("*.py"):
        for m in re.finditer(r'NoOutcome\(\s*f?"([a-z_0-9]+)(:?)', path.read_text()):
            found.add(m.group(1) + (":" if m.group(2) else ""))
    return found


def test_every_reason_in_the_analysis_has_an_explanation():
    reasons = _reasons_in_source()
    assert {"flat_spectrum", "no_pl_band", "no_emission", "saturated"} <= reasons
    for r in reasons:
        if r.endswith(":"):
            assert r[:-1] in PREFIXES, r
        else:
            assert r in MARKERS, r
            text = explain(r)
            assert text and "\n" not in text and len(text) < 200


def test_prefixed_and_unknown_markers_are_explained():
    assert explain("failure:clog") == "the experiment failed on the rig (clog); nothing was measured"
    assert "excitation_nm" in explain("missing_metadata:excitation_nm")
    assert explain("something_new").startswith("no value (something_new)")


def test_consistency_rules():
    flat = NoOutcome("flat_spectrum")
    assert consistency_problems({"pl_peak_nm": flat, "plqy": Estimate(0.077, 0.01)}) == [
        "plqy has a value beside pl_peak_nm=flat_spectrum"]
    assert consistency_problems({"pl_peak_nm": flat, "g2_zero": {"value": 0.108, "stderr": 0.02}})
    assert consistency_problems({"pl_peak_nm": Estimate(599.7, 0.2),
                                 "plqy": NoOutcome("no_absorbance_at_excitation")})
    assert consistency_problems({"pl_peak_nm": Estimate(599.7, 0.2),
                                 "plqy": NoOutcome("weak_absorbance_at_excitation")}) == []


def test_simulated_flat_samples_get_no_plqy_and_no_g2():
    """The issue's cases through the simulator: whatever a sample gives, PLQY and g2(0)
    never sit beside a flat PL spectrum."""
    from sdl.analysis.score import score
    from simulator.rig import SimulatedRig

    rig = SimulatedRig("CdSe", 3)
    names = ["pl_peak_nm", "fwhm_nm", "plqy", "g2_zero"]
    seen = set()
    # cold and short: little or no growth, so little or no emission
    for i, (t, tau) in enumerate([(220.0, 10.0), (300.0, 600.0), (230.0, 15.0), (260.0, 120.0)]):
        raw = rig.run({"temperature_c": t, "residence_time_s": tau, "acquisition_s": 2.0},
                      f"e{i}", photons=True)
        if raw.failure is not None:
            continue
        out = score(raw, names, "CdSe")
        assert consistency_problems(out) == [], (t, tau, out)
        seen.add(isinstance(out["pl_peak_nm"], Estimate))
        if isinstance(out["g2_zero"], Estimate):
            assert out["g2_zero"].stderr <= 0.25 and np.isfinite(out["g2_zero"].value)
    assert seen  # at least one sample was scored
