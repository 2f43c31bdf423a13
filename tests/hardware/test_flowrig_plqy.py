"""FlowRig measurements carry what the analysis needs: the optics device's constants
(excitation line, solvent index, dilution, reference dye) and a reference-dye PL spectrum,
so PLQY and yield are scored on a hardware run, not `missing_metadata:...`.

Also: `sdl run --rig` and `sdl resume` hand the campaign's material to FlowRig.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hardware.flowrig import FlowRig
from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.photon_files import read_photon_file
from sdl.analysis.score import score
from sdl.audit import audit
from sdl.cli import main
from sdl.schema.rig import RigFile
from simulator.rig import outlet_state
from tests.hardware.flowrig_fixtures import RIG_TOML, conditions, make_bench
from tests.hardware.test_rehearsal import Rehearsal, _campaign
from tests.runs import run_state

ROOT = Path(__file__).resolve().parents[2]

# what campaigns/rigs/example_rig.toml declares (the CdSe preset's optics in the simulator)
DYE = {"excitation_nm": 400.0, "solvent_index": 1.445, "sample_dilution": 5.0,
       "reference_dye": "rhodamine 6G in ethanol", "reference_plqy": 0.95,
       "reference_absorbance": 0.05, "reference_solvent_index": 1.361}


def _with_dye(bench, **optics):
    """Replace the bench's FlowRig by one whose optics device declares `optics`."""
    data = bench.data
    for d in data["devices"]:
        if d["role"] == "optics":
            d.update(optics)
    rig_file = RigFile.model_validate(data)
    bench.rig = FlowRig(rig_file, clock=bench.clock.now, sleep=bench.sleep, poll_s=5.0,
                        photon_reader=read_photon_file)
    return bench


def test_measurement_metadata_and_reference_dye_give_plqy_and_yield(tmp_path):
    b = _with_dye(make_bench(tmp_path), **DYE)
    try:
        cond = conditions(temperature_c=270.0, residence_time_s=60.0)
        raw = b.rig.run(cond, "e0001")
        assert raw.failure is None
        for key, value in DYE.items():
            assert raw.metadata[key] == value
        assert raw.metadata["feed_metal_molar"] == pytest.approx(cond["metal_conc_mm"] * 1e-3)
        assert raw.metadata["path_length_cm"] == b.rig_file.reactor.flow_cell_path_cm
        # the dye was measured in the reference position under excitation, before the sample
        acq = [e["value"] for e in raw.device_log if e["kind"] == "acquire"]
        assert [(a["cell"], a["light"]) for a in acq] == [
            ("solvent", "dark"), ("solvent", "lamp"), ("reference", "excitation"),
            ("sample", "lamp"), ("sample", "dark"), ("sample", "excitation")]
        assert raw.pl_reference_counts.max() > raw.pl_dark_counts.max() + 1000
        out = score(raw, ["plqy", "yield", "pl_peak_nm"])
        assert all(isinstance(v, Estimate) for v in out.values()), out
        truth = outlet_state("CdSe", cond, 1, reactor_volume_ul=b.rig_file.reactor.volume_ul).truth
        assert out["plqy"].value == pytest.approx(truth["plqy"], rel=0.15)
        assert out["yield"].value == pytest.approx(truth["yield"], rel=0.25)
        assert b.emu.world.cell == "sample" and b.emu.world.light == "dark"
    finally:
        b.close()


def test_without_a_reference_dye_plqy_is_not_scored_but_the_rest_is(tmp_path):
    b = make_bench(tmp_path)  # optics device with the defaults: no reference dye
    try:
        raw = b.rig.run(conditions(), "e0001")
        assert raw.metadata["excitation_nm"] == 400.0 and raw.metadata["reference_dye"] is None
        assert "reference" not in [e["value"]["cell"] for e in raw.device_log
                                   if e["kind"] == "acquire"]
        out = score(raw, ["plqy", "pl_peak_nm"])
        assert isinstance(out["plqy"], NoOutcome)
        assert out["plqy"].reason == "missing_metadata:reference_plqy"
        assert isinstance(out["pl_peak_nm"], Estimate)
    finally:
        b.close()


def test_reference_dye_needs_its_constants():
    from sdl.errors import CampaignError
    from sdl.schema.load import rig_from_dict

    data = tomllib.loads(RIG_TOML)
    data["devices"].append({"role": "optics", "name": "optics", "port": "tcp://127.0.0.1:1",
                            "reference_dye": "rhodamine 6G", "reference_plqy": 0.95})
    with pytest.raises(CampaignError) as ei:
        rig_from_dict(data, "rig.toml")
    text = "\n".join(ei.value.problems)
    assert "reference_absorbance" in text and "reference_solvent_index" in text
    data["devices"][-1] = {"role": "optics", "name": "optics", "port": "tcp://127.0.0.1:1",
                           "reference_plqy": 0.95}
    with pytest.raises(CampaignError, match="reference_dye"):
        rig_from_dict(data, "rig.toml")


def test_rehearsal_run_scores_plqy(tmp_path, capsys):
    r = Rehearsal(tmp_path, **DYE)  # the optics device declares the reference dye
    try:
        out = tmp_path / "run"
        code = main(["run", str(_campaign(tmp_path, 2)), "--rig", str(r.rig_path),
                     "--out", str(out), "--no-report"])
        text = capsys.readouterr().out
        assert code == 0, text
    finally:
        r.close()
    st = run_state(out)
    scored = [e for e in st.completed if e.status == "scored"]
    assert len(scored) == 2, [(e.status, e.failure) for e in st.completed]
    plqy = [e.outcomes["plqy"] for e in scored]
    # a Sobol point may make no emitting dots (physics v2): then the honest marker, else a yield
    assert all((p.get("value") is not None and 0 < p["value"] < 1)
               or p.get("no_outcome") == "no_pl_band" for p in plqy), plqy
    assert any(p.get("value") is not None for p in plqy), plqy
    assert audit(out).clean


def _capture_hardware_rig(monkeypatch) -> dict:
    from sdl.errors import HardwareUnavailable

    seen: dict = {}

    def fake(rig_path, **options):
        seen.update(options, rig_path=str(rig_path))
        raise HardwareUnavailable("captured")
    monkeypatch.setattr("sdl.rigs.hardware_rig", fake)
    return seen


def test_run_and_resume_pass_the_campaign_material(tmp_path, monkeypatch, capsys):
    from sdl.session import Session

    rig = ROOT / "campaigns/rigs/example_rig.toml"
    seen = _capture_hardware_rig(monkeypatch)
    code = main(["run", str(ROOT / "campaigns/mn_doping.toml"), "--rig", str(rig),
                 "--out", str(tmp_path / "r")])
    assert code == 3 and seen["material"] == "Mn:ZnSe"
    session = Session.create(ROOT / "campaigns/mn_doping.toml", out=tmp_path / "r2",
                             rig_path=rig, rig_kind="flowrig")
    session.close()
    seen.clear()
    assert main(["resume", str(tmp_path / "r2"), "--no-report"]) == 3
    assert seen["material"] == "Mn:ZnSe" and seen["rig_path"].endswith("rig.toml")
    assert "Traceback" not in capsys.readouterr().err
