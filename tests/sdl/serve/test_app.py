"""The dashboard's JSON API and security, through Starlette's TestClient (real app, real
run directories written by the real simulator; no server socket needed)."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from sdl.serve.app import create_app  # noqa: E402
from tests.sdl.serve.helpers import SteppedRun, sobol_campaign  # noqa: E402

CONTRACT_KEYS = {"run_dir", "campaign", "state", "experiments_completed",
                 "experiments_failed", "budget", "best"}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    done = SteppedRun(sobol_campaign(tmp, 4), tmp / "runs" / "done")
    for _ in range(3):
        done.step()
    done.close()
    live = SteppedRun(sobol_campaign(tmp, 5, "single_photon.toml"), tmp / "runs" / "live")
    live.step()
    yield tmp / "runs", done, live
    live.close()


def test_runs_lists_every_run_with_the_contract_keys(two_runs):
    runs_dir, done, live = two_runs
    with TestClient(create_app([runs_dir])) as client:
        r = client.get("/api/runs")
        assert r.status_code == 200
        runs = {x["name"]: x for x in r.json()}
    assert set(runs) == {"done", "live"}
    for x in runs.values():
        assert CONTRACT_KEYS <= set(x)
    assert runs["done"]["state"] == "complete"
    assert runs["done"]["experiments_completed"] == 3 and runs["done"]["budget"] == 4
    assert runs["live"]["state"] == "running"  # the writer holds the lock
    assert runs["live"]["experiments_completed"] == len(live.session.state.completed) >= 1
    assert runs["done"]["campaign"] == "cdse-620nm"


def test_events_after_seq_returns_only_newer_events_and_follows_appends(two_runs):
    runs_dir, _, live = two_runs
    with TestClient(create_app([runs_dir])) as client:
        first = client.get("/api/runs/live/events?after=0").json()
        seqs = [e["seq"] for e in first["events"]]
        assert seqs == list(range(1, first["last_seq"] + 1))
        assert first["events"][0]["kind"] == "campaign_started"
        last = first["last_seq"]
        assert client.get(f"/api/runs/live/events?after={last}").json()["events"] == []
        live.step()  # the writer appends; the server reads it on the next request
        new = client.get(f"/api/runs/live/events?after={last}").json()["events"]
        assert [e["kind"] for e in new][-1] == "scored"
        assert all(e["seq"] > last for e in new)
        assert client.get("/api/runs/live/events?after=x").status_code == 400
        assert client.get("/api/runs/nope/events").status_code == 404


def test_view_has_physical_traces_pareto_pairs_and_latest_spectra(two_runs):
    runs_dir, done, _ = two_runs
    with TestClient(create_app([runs_dir])) as client:
        v = client.get("/api/runs/done/view").json()
    assert [t["name"] for t in v["traces"]] == ["pl_peak_nm", "fwhm_nm", "plqy"]
    pl = v["traces"][0]
    assert pl["label"] == "|pl_peak_nm − 620| (nm)"
    exps = {e.experiment_id: e for e in done.session.state.completed}
    for eid, shown in zip(pl["ids"], pl["values"], strict=True):  # distance to 620 nm
        assert shown == pytest.approx(abs(exps[eid].outcomes["pl_peak_nm"]["value"] - 620))
    assert pl["best"] == [min(pl["values"][: i + 1]) for i in range(len(pl["values"]))]
    assert [(p["x_name"], p["y_name"]) for p in v["pareto"]] == [
        ("pl_peak_nm", "fwhm_nm"), ("pl_peak_nm", "plqy"), ("fwhm_nm", "plqy")]
    latest = v["latest"]
    assert latest["experiment_id"] == "e0003"
    assert len(latest["wavelengths_nm"]) == len(latest["pl_counts"]) > 100
    assert latest["device_log_tail"]
    assert "temperature_c" in latest["rig_state"]
    assert [s["reason"] for s in v["stops"]] == ["budget"]


def test_g2_histogram_is_served_when_the_raw_file_has_photons(two_runs):
    runs_dir, _, live = two_runs
    with TestClient(create_app([runs_dir])) as client:
        g2 = client.get("/api/runs/live/view").json()["latest"]["g2"]
    assert g2 is not None
    assert len(g2["delay_ns"]) == len(g2["counts"]) and sum(g2["counts"]) > 0


def test_nothing_can_write_and_the_record_is_unchanged(two_runs):
    runs_dir, done, _ = two_runs
    rec = done.session.run_dir / "record.sqlite"
    before = rec.read_bytes()
    with TestClient(create_app([runs_dir])) as client:
        for method in ("post", "put", "delete", "patch"):
            assert getattr(client, method)("/api/runs").status_code == 405
        client.get("/api/runs/done/view")
    assert rec.read_bytes() == before


def test_token_is_checked_on_every_request(two_runs):
    runs_dir, _, _ = two_runs
    with TestClient(create_app([runs_dir], token="s3cret-token")) as client:
        for path in ("/", "/api/runs", "/static/plotly.min.js", "/api/runs/done/events"):
            assert client.get(path).status_code == 401
            assert client.get(path + "?token=wrong-token").status_code == 401
        assert client.get("/api/runs?token=s3cret-token").status_code == 200
        ok = client.get("/api/runs", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200
        page = client.get("/?token=s3cret-token").text
        assert "/static/plotly.min.js?token=s3cret-token" in page


def test_page_and_plotly_come_from_the_app_not_a_cdn(two_runs):
    runs_dir, _, _ = two_runs
    with TestClient(create_app([runs_dir])) as client:
        page = client.get("/").text
        js = client.get("/static/plotly.min.js")
    assert "http://" not in page and "https://" not in page
    assert js.status_code == 200 and b"plotly" in js.content[:2000].lower()


def test_serve_refuses_a_public_address_without_a_token():
    from sdl.commands.serve import check_args
    from sdl.errors import SdlError

    check_args("127.0.0.1", 8765, None, 1000)
    with pytest.raises(SdlError, match="--token"):
        check_args("0.0.0.0", 8765, None, 1000)
    check_args("0.0.0.0", 8765, "long-enough", 1000)


def test_cli_serve_error_is_one_line(tmp_path, capsys):
    from sdl.cli import main

    assert main(["serve", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such directory" in err
    assert main(["serve", str(tmp_path), "--host", "0.0.0.0"]) == 2
    assert "--token" in capsys.readouterr().err
