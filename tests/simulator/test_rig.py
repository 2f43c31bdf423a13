"""SimulatedRig: determinism, failures with reasons, metadata, outlet_state interface."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sdl.vocab.measurement import FAILURE_KINDS, RawMeasurement
from simulator.rig import ConditionError, SimulatedRig, check_conditions, outlet_state

COND = {"temperature_c": 270.0, "residence_time_s": 90.0}


def _same(a: RawMeasurement, b: RawMeasurement) -> None:
    for name in RawMeasurement.SPECTRUM_FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.metadata == b.metadata
    assert a.failure == b.failure
    assert a.device_log == b.device_log


def test_same_seed_gives_bit_identical_measurements():
    r1, r2 = SimulatedRig("CdSe", 5), SimulatedRig("CdSe", 5)
    for i in range(4):
        _same(r1.run(COND, f"e{i}"), r2.run(COND, f"e{i}"))


def test_repeats_differ_by_small_process_noise():
    # Same conditions, other experiment ids: detector noise plus run-to-run process noise
    # (0.2 degC heater jitter, 0.3 % flow noise) move the truth a little, not a lot.
    sizes = []
    for i in range(4):
        rig = SimulatedRig("CdSe", 5, drift=False, clogging=False, failure_rate=0.0)
        raw = rig.run(COND, f"r{i}")
        sizes.append(raw.truth["mean_diameter_nm"])
    assert len(set(sizes)) == 4
    assert np.std(sizes) / np.mean(sizes) < 0.02


def test_photon_run_is_deterministic():
    r1, r2 = SimulatedRig("CdSe", 1, failure_rate=0.0), SimulatedRig("CdSe", 1, failure_rate=0.0)
    c = dict(COND, acquisition_s=0.5)
    a = r1.run(c, "p1", photons=True)
    b = r2.run(c, "p1", photons=True)
    assert a.photon_timestamps_ps.dtype == np.int64 and a.photon_channels.dtype == np.uint8
    np.testing.assert_array_equal(a.photon_timestamps_ps, b.photon_timestamps_ps)
    assert a.sync_period_ps == round(1e12 / 2.5e6)


def test_metadata_keys_for_analysis():
    raw = SimulatedRig("CdSe", 2, failure_rate=0.0, clogging=False).run(COND, "m")
    for key in ("path_length_cm", "abs_integration_s", "pl_integration_s", "excitation_nm",
                "reference_dye", "reference_plqy", "reference_absorbance", "solvent_index",
                "reference_solvent_index", "feed_metal_molar", "sample_dilution",
                "saturation_counts", "flows_ul_min", "temperature_c", "material"):
        assert key in raw.metadata, key
    assert raw.metadata["saturation_counts"] == 16383
    for name in RawMeasurement.SPECTRUM_FIELDS:
        arr = getattr(raw, name)
        assert arr.shape == (1024,) and arr.dtype == np.float64
        if name != "wavelengths_nm":
            assert arr.max() <= 16383 and arr.min() >= 0


def test_failure_frequency_matches_rate():
    # Binomial bound: n = 400, p = 0.1 -> sd = 6; accept within 4 sd.
    rig = SimulatedRig("CdSe", 9, failure_rate=0.1, clogging=False)
    n = 400
    fails = 0
    for i in range(n):
        raw = rig.run({"temperature_c": 20.0, "residence_time_s": 10.0}, f"f{i}")
        if raw.failure is not None:
            assert raw.failure.kind == "equipment"
            fails += 1
    assert abs(fails - 0.1 * n) < 4 * math.sqrt(n * 0.1 * 0.9)


def test_every_failure_has_kind_reason_and_dark_arrays():
    rig = SimulatedRig("CdSe", 3, failure_rate=0.3)
    seen = 0
    for i in range(40):
        raw = rig.run({"temperature_c": 300.0, "metal_conc_mm": 150.0, "residence_time_s": 600.0,
                       "se_to_cd": 1.0, "ligand_to_metal": 2.0}, f"x{i}")
        if raw.failure is None:
            continue
        seen += 1
        assert raw.failure.kind in FAILURE_KINDS
        assert raw.failure.reason.startswith(raw.failure.kind + ":")
        assert raw.failure.detail
        assert raw.abs_sample_counts.shape == (1024,)
        assert raw.abs_sample_counts.max() < 2000     # dark only
    assert seen > 5


def test_clog_resets_fouling():
    rig = SimulatedRig("CdSe", 4, failure_rate=0.0)
    clogs = 0
    for i in range(60):
        before = rig.fouling
        raw = rig.run({"temperature_c": 300.0, "metal_conc_mm": 120.0, "residence_time_s": 600.0,
                       "se_to_cd": 1.0, "ligand_to_metal": 2.0}, f"c{i}")
        if raw.failure is not None and raw.failure.kind == "clog":
            clogs += 1
            assert rig.fouling == 0.0 and raw.truth["fouling"] == before
    assert clogs >= 1


def test_bad_conditions_named():
    with pytest.raises(ConditionError, match="temperature_c"):
        check_conditions({"temperature_c": 1000})
    with pytest.raises(ConditionError, match="bogus"):
        check_conditions({"bogus": 1})
    raw = SimulatedRig("CdSe", 0).run({"flow_format": "plug"}, "b")
    assert raw.failure.reason == "rejected:bad_condition" and "flow_format" in raw.failure.detail


def test_outlet_state_interface():
    st = outlet_state("CdSe", COND, 0)
    assert st.wavelengths_nm.shape == st.absorbance.shape == st.pl_photon_rate.shape == (1024,)
    assert np.all(np.diff(st.wavelengths_nm) > 0)
    for key in ("mean_diameter_nm", "size_dispersion", "pl_peak_nm", "fwhm_nm", "plqy",
                "mn_ratio", "g2_zero_expected", "yield"):
        assert key in st.truth
    assert 2.0 < st.truth["mean_diameter_nm"] < 8.0


@pytest.mark.parametrize("material", ["CdSe", "CsPbBr3", "Mn:ZnSe"])
def test_all_materials_run(material):
    raw = SimulatedRig(material, 0, failure_rate=0.0, clogging=False).run({}, "d")
    assert raw.failure is None
    assert raw.truth is not None


def test_limits_frozen_with_rig_limit_names():
    import dataclasses

    lim = SimulatedRig("CdSe", 0).limits()
    for name in ("max_temperature_c", "min_temperature_c", "max_total_flow_ul_min",
                 "max_pressure_bar", "max_ramp_c_per_min"):
        assert getattr(lim, name) > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        lim.max_temperature_c = 1.0


def test_flow_limit_rejects_before_running():
    raw = SimulatedRig("CdSe", 0, reactor_volume_ul=2000.0).run({"residence_time_s": 5.0}, "q")
    assert raw.failure is not None and raw.failure.reason == "rejected:flow_limit"


def test_check_conditions_fuzz():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sdl.vocab.conditions import CONDITIONS

    values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(),
                       st.text(max_size=5), st.none(), st.sampled_from(["Cl", "I", "cw"]))

    @settings(max_examples=200, deadline=None)
    @given(st.dictionaries(st.sampled_from(sorted(CONDITIONS) + ["bogus"]), values, max_size=5))
    def check(cond):
        try:
            out = check_conditions(cond)
        except ConditionError as e:
            assert any(k in str(e) for k in cond)          # names the offending key
            return
        assert set(out) == set(CONDITIONS)

    check()


def test_run_never_raises_inside_bounds():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sdl.vocab.conditions import CONDITIONS

    numeric = {n: s for n, s in CONDITIONS.items() if not s.choices and n not in (
        "acquisition_s", "rep_rate_mhz", "excitation_mean")}

    @settings(max_examples=25, deadline=None)
    @given(st.sampled_from(["CdSe", "CsPbBr3", "Mn:ZnSe"]),
           st.fixed_dictionaries({n: st.floats(s.low, s.high) for n, s in numeric.items()}),
           st.sampled_from(["laminar", "segmented"]))
    def check(material, cond, fmt):
        raw = SimulatedRig(material, 1, failure_rate=0.0).run(dict(cond, flow_format=fmt), "h")
        for name in RawMeasurement.SPECTRUM_FIELDS:
            assert np.all(np.isfinite(getattr(raw, name)))
        if raw.failure is not None:
            assert raw.failure.reason.split(":")[0] in FAILURE_KINDS

    check()
