"""Provenance: every run records what drives it; resume re-attaches only the same kind;
the audit says what produced each experiment and flags a mix the record does not explain."""

from __future__ import annotations

import hashlib

import pytest

from sdl.audit import audit
from sdl.cli import main
from sdl.commands.status import status
from sdl.loop import run_loop
from sdl.provenance import describe, driver_of_started, provenance
from sdl.record import Record
from sdl.session import Session
from sdl.state import fold
from tests.sdl.conftest import ROOT, TinyRig

EXAMPLE_RIG = ROOT / "campaigns" / "rigs" / "example_rig.toml"


def _events(run_dir):
    with Record(run_dir / "record.sqlite", readonly=True) as rec:
        return list(rec.events())


class IdentifiedTinyRig(TinyRig):
    """Stand-in for FlowRig's identity reporting: TinyRig plus `device_identities()`,
    which a FlowRig answers after `prepare()` (serial numbers, firmware)."""

    def __init__(self, identities, **kw):
        super().__init__(**kw)
        self.identities = identities
        self.prepared = False

    def prepare(self):
        self.prepared = True

    def device_identities(self):
        if not self.prepared:
            raise RuntimeError("not prepared")
        return dict(self.identities)


def test_simulator_run_records_material_and_seed(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    s = Session.create(tiny_campaign, out=tmp_path / "run")
    assert run_loop(s, TinyRig(), say=lambda _: None).exit_code == 0
    s.close()
    started = _events(tmp_path / "run")[0].payload
    assert started["driver"] == {"kind": "simulator", "material": "CdSe", "seed": 7}
    res = audit(tmp_path / "run")
    assert res.clean and set(res.produced_by) == {f"e000{i}" for i in range(1, 7)}
    assert set(res.produced_by.values()) == {"session 1: simulator (CdSe, seed 7)"}


def test_hardware_run_records_rig_sha256_and_device_identities(tmp_path, tiny_campaign,
                                                                fake_propose, fake_scorer):
    ids = {"sts": "STS-VIS S05432 fw 1.2", "heater_core": "3216 sn 77"}
    s = Session.create(tiny_campaign, out=tmp_path / "run", rig_path=EXAMPLE_RIG,
                       rig_kind="flowrig")
    assert run_loop(s, IdentifiedTinyRig(ids), say=lambda _: None).exit_code == 0
    s.close()
    ev = _events(tmp_path / "run")
    d = ev[0].payload["driver"]
    assert d["kind"] == "hardware"
    assert d["rig_sha256"] == hashlib.sha256(EXAMPLE_RIG.read_bytes()).hexdigest()
    assert ev[1].kind == "rig_identified" and ev[1].payload["devices"] == ids  # before any experiment
    assert audit(tmp_path / "run").clean

    # other devices answer on resume: refused before any experiment, nothing run
    s = Session.open(tmp_path / "run")
    s.extend_budget(8, by="test")
    s.resumed(driver=d, previous_phase="complete")
    rig = IdentifiedTinyRig({**ids, "sts": "STS-VIS S09999 fw 1.2"})
    res = run_loop(s, rig, say=lambda _: None)
    s.close()
    assert res.exit_code == 2 and rig.runs == []
    assert "sts: 'STS-VIS S05432 fw 1.2' -> 'STS-VIS S09999 fw 1.2'" in res.detail
    assert "--rig RIG.toml" in res.detail


def test_resume_refuses_an_edited_rig_file_and_appends_nothing(tmp_path, tiny_campaign,
                                                               fake_propose, capsys):
    run = tmp_path / "run"
    s = Session.create(tiny_campaign, out=run, rig_path=EXAMPLE_RIG, rig_kind="flowrig")
    s.stop("signal", "SIGINT")
    s.close()
    (run / "rig.toml").write_text(EXAMPLE_RIG.read_text() + "\n# edited\n")
    before = hashlib.sha256((run / "record.sqlite").read_bytes()).hexdigest()
    assert main(["resume", str(run), "--no-report"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"sdl resume: error: {run / 'rig.toml'} differs from the recorded one")
    assert err.endswith(f"sdl resume {run} --rig NEW.toml (recorded as a rig change)")
    assert hashlib.sha256((run / "record.sqlite").read_bytes()).hexdigest() == before


def test_simulator_run_cannot_continue_on_a_rig(tmp_path, tiny_campaign, fake_propose, capsys):
    s = Session.create(tiny_campaign, out=tmp_path / "run")
    s.close()
    assert main(["resume", str(tmp_path / "run"), "--rig", str(EXAMPLE_RIG)]) == 2
    assert "was run on the built-in simulator; it cannot continue on the rig" in capsys.readouterr().err


def test_a_rig_change_is_recorded_and_explains_the_new_rig(tmp_path, tiny_campaign, fake_propose,
                                                           fake_scorer):
    run = tmp_path / "run"
    s = Session.create(tiny_campaign, out=run, rig_path=EXAMPLE_RIG, rig_kind="flowrig")
    s.stop("signal", "SIGINT")
    new = EXAMPLE_RIG.read_bytes() + b"\n# spare spectrometer\n"
    s.rig_changed(new, "example", reason="sdl resume --rig new.toml")
    from sdl.provenance import hardware_driver

    s.resumed(driver=hardware_driver(new, "example", None), previous_phase="stopped")
    assert run_loop(s, TinyRig(), say=lambda _: None).exit_code == 0
    s.close()
    assert (run / "rig.toml").read_bytes() == new
    res = audit(run)
    assert res.clean, res.problems

    # the same new rig WITHOUT the rig_changed event: an unexplained mix
    run2 = tmp_path / "run2"
    s = Session.create(tiny_campaign, out=run2, rig_path=EXAMPLE_RIG, rig_kind="flowrig")
    s.stop("signal", "SIGINT")
    s.resumed(driver=hardware_driver(new, "example", None), previous_phase="stopped")
    s.close()
    res = audit(run2)
    assert any("no rig_changed event explains" in p for p in res.problems)


def test_audit_flags_the_issue_mix_api_run_continued_on_the_simulator(
        tmp_path, tiny_campaign, fake_propose, fake_scorer):
    """What the old `sdl resume` did: 3 lab results told through the API, then 3
    simulated experiments appended after a `resumed` event that names no driver."""
    from sdl.api import Campaign

    run = tmp_path / "run"
    with Campaign.load(tiny_campaign).start(out=run) as api:
        for _ in range(3):
            (t,) = api.ask()
            api.tell(t.experiment_id, {"pl_peak_nm": 618.0, "fwhm_nm": 31.0, "plqy": 0.4})
    s = Session.open(run)
    s._append("resumed", previous_phase="stopped", experiments_completed=3, unfinished=[])
    run_loop(s, TinyRig(), say=lambda _: None)
    s.close()
    res = audit(run)
    assert not res.clean
    assert any("driven by the simulator" in p and "external driver (Python ask/tell API)" in p
               and "explains no change of driver" in p for p in res.problems), res.problems
    assert res.produced_by["e0001"].endswith("external driver (Python ask/tell API)")
    assert res.produced_by["e0004"].startswith("session 2: simulator")


def test_old_records_without_provenance_load_and_say_unknown(tmp_path, tiny_campaign):
    run = tmp_path / "old"
    run.mkdir()
    text = tiny_campaign.read_text()
    (run / "campaign.toml").write_text(text)
    with Record(run / "record.sqlite") as rec:  # a record as written before rig_kind/driver
        from sdl.schema.load import campaign_from_dict, parse_toml_bytes

        c = campaign_from_dict(parse_toml_bytes(text.encode()))
        rec.append("campaign_started", campaign=c.model_dump(mode="json"), campaign_toml=text,
                   rig_toml=None, seed=7, budget_experiments=6, versions={})
        rec.append("stopped", reason="budget", detail="")
    s = status(str(run))
    assert s["driver"] == {"kind": "unknown"} and s["state"] == "complete"
    assert s["driver_text"] == "unknown driver (the record predates provenance)"
    res = audit(run)
    assert res.clean
    assert any("predates provenance" in n for n in res.notes)


@pytest.mark.parametrize("rig_kind, kind", [("external", "external"), ("flowrig", "hardware"),
                                            ("simulator", "simulator"),
                                            ("simulator-fallback", "simulator")])
def test_older_rig_kind_is_read_as_a_driver(rig_kind, kind):
    d = driver_of_started({"rig_kind": rig_kind, "rig_toml": "[rig]\n", "seed": 3,
                           "campaign": {"campaign": {"material": "CdSe"}}})
    assert d["kind"] == kind and d["inferred"] is True
    assert describe(d)


def test_provenance_of_an_empty_record_is_unknown():
    assert provenance([]).kind == "unknown"
    assert fold([]).budget == 0
