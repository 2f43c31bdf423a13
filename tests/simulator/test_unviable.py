"""Unviable chemistry returns real but useless spectra, with the reason in truth["unviable"]."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.rig import SimulatedRig, outlet_state


def _two_peaks(wl, y):
    y = np.convolve(y, np.ones(9) / 9, mode="same")
    top = y.max()
    pk = [i for i in range(1, y.size - 1) if y[i] >= y[i - 1] and y[i] > y[i + 1]
          and y[i] > 0.15 * top]
    return len(pk) >= 2


@pytest.mark.parametrize("material,cond,reason", [
    ("CdSe", {"temperature_c": 200.0, "residence_time_s": 10.0, "metal_conc_mm": 2.0},
     "no_nucleation"),
    ("CsPbBr3", {"temperature_c": 170.0, "br_to_pb": 1.0}, "wrong_phase"),
    ("CsPbBr3", {"temperature_c": 170.0, "ligand_to_metal": 15.0}, "wrong_phase"),
    ("CsPbBr3", {"temperature_c": 170.0, "exchange_fraction": 0.5, "exchange_halide": "I",
                 "shell_temperature_c": 60.0}, "halide_segregation"),
    ("CdSe", {"temperature_c": 300.0, "residence_time_s": 1800.0, "metal_conc_mm": 50.0,
              "ligand_to_metal": 20.0, "se_to_cd": 0.3}, "bulk_like"),
])
def test_unviable_reasons_and_useless_spectra(material, cond, reason):
    st = outlet_state(material, cond, 0)
    assert st.truth["unviable"] == reason
    pl = st.pl_photon_rate
    if reason in ("no_nucleation", "wrong_phase"):
        assert pl.max() == 0.0                                  # no emission at all
        vis = st.wavelengths_nm > 420
        assert np.ptp(st.absorbance[vis]) < 0.02                # flat in the visible
    if reason == "halide_segregation":
        assert _two_peaks(st.wavelengths_nm, pl)                # mixed + I-rich domains
    if reason == "bulk_like":
        assert st.truth["plqy"] < 0.02
    raw = SimulatedRig(material, 0, failure_rate=0.0, clogging=False).run(cond, "u")
    assert raw.failure is None and raw.truth["unviable"] == reason
    assert raw.truth["unviable_detail"]


def test_segmented_flow_narrows_the_size_distribution():
    c = {"temperature_c": 260.0, "residence_time_s": 100.0}
    lam = outlet_state("CdSe", dict(c, flow_format="laminar"), 0).truth
    seg = outlet_state("CdSe", dict(c, flow_format="segmented"), 0).truth
    assert seg["size_dispersion"] < lam["size_dispersion"] - 0.01


def test_campaign_drift_changes_outcomes_slowly():
    rig = SimulatedRig("CdSe", 21, failure_rate=0.0, clogging=False)
    c = {"temperature_c": 260.0, "residence_time_s": 60.0}
    first = rig.run(c, "d0").truth
    rig.runs_made = 150                # drift depends on the run index only
    late = rig.run(c, "d150").truth
    assert late["reactivity"] != 1.0 and first["reactivity"] == 1.0
    assert late["mean_diameter_nm"] != first["mean_diameter_nm"]
    assert abs(late["mean_diameter_nm"] / first["mean_diameter_nm"] - 1) < 0.2
