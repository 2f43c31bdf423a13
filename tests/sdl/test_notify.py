"""Alerts through Apprise to a local `json://127.0.0.1:PORT/` receiver (a real HTTP server
on a real socket, tests/sdl/jsonsink.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

pytest.importorskip("apprise")

from sdl.notify import Notifier, next_occurrence, parse_hhmm  # noqa: E402
from tests.sdl.jsonsink import JsonSink  # noqa: E402
from tests.sdl.serve.helpers import sobol_campaign  # noqa: E402


def _titles(sink):
    return [p["title"] for p in sink.posts]


def test_sdl_run_notify_posts_on_stop_with_the_report_command(tmp_path):
    from sdl.cli import main

    with JsonSink() as sink:
        rc = main(["run", str(sobol_campaign(tmp_path, 3)), "--out", str(tmp_path / "r"),
                   "--no-report", "--notify", sink.url, "--notify-summary-at", "off"])
    assert rc == 0
    stops = [p for p in sink.posts if "finished (budget)" in p["title"]]
    assert len(stops) == 1
    assert "3/3 experiments done" in stops[0]["message"]
    assert str(tmp_path / "r") in stops[0]["message"]
    assert stops[0]["type"] == "success"


def test_interlocks_three_rig_faults_and_stop_with_resume_command(tmp_path, tiny_campaign,
                                                                  fake_propose, fake_scorer):
    from sdl.loop import run_loop
    from sdl.session import Session
    from tests.sdl.conftest import TinyRig

    session = Session.create(tiny_campaign, out=tmp_path / "r")
    rig = TinyRig(fail_ids={"e0002", "e0003", "e0004"}, fail_kind="interlock")
    with JsonSink() as sink:
        n = Notifier([sink.url], session.run_dir, session.campaign.name, summary_at=None)
        result = run_loop(session, rig, say=lambda s: None, hooks=[n])
        n.stopped(session, result)
        session.close()
    titles = _titles(sink)
    assert result.reason == "rig_faults"
    assert sum("interlock tripped" in t for t in titles) == 3
    assert sum("3 rig faults in a row" in t for t in titles) == 1
    stop = sink.posts[-1]
    assert "STOPPED (rig_faults)" in stop["title"] and stop["type"] == "failure"
    assert f"sdl resume {session.run_dir}" in stop["message"]


def test_incomplete_safe_state_is_alerted(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    from sdl.loop import run_loop
    from sdl.session import Session
    from tests.sdl.conftest import TinyRig

    class StuckHeaterRig(TinyRig):
        safe_state_problems = ["heater_core: did not confirm idle"]

    session = Session.create(tiny_campaign, out=tmp_path / "r", budget=1)
    with JsonSink() as sink:
        n = Notifier([sink.url], session.run_dir, session.campaign.name, summary_at=None)
        run_loop(session, StuckHeaterRig(), say=lambda s: None, hooks=[n])
        session.close()
    alert = [p for p in sink.posts if "SAFE STATE INCOMPLETE" in p["title"]]
    assert len(alert) == 1 and "heater_core" in alert[0]["message"]


def test_target_reached_is_announced_once_for_the_first_hit(tmp_path, tiny_campaign,
                                                            fake_propose, fake_scorer):
    # the stand-in scorer puts every PL peak near 600 nm: retarget the campaign there
    text = tiny_campaign.read_text().replace("target = 620", "target = 600").replace("tolerance = 3", "tolerance = 10")
    tiny_campaign.write_text(text)
    from sdl.loop import run_loop
    from sdl.session import Session
    from tests.sdl.conftest import TinyRig

    session = Session.create(tiny_campaign, out=tmp_path / "r", budget=3)
    with JsonSink() as sink:
        n = Notifier([sink.url], session.run_dir, session.campaign.name, summary_at=None)
        run_loop(session, TinyRig(), say=lambda s: None, hooks=[n])
        session.close()
    hits = [t for t in _titles(sink) if "target reached" in t]
    assert hits == ["sdl cdse-620nm: target reached by e0001"]


def test_failing_notification_is_logged_and_never_stops_the_campaign(tmp_path, caplog):
    from sdl.cli import main

    with JsonSink(status=500) as sink:
        rc = main(["run", str(sobol_campaign(tmp_path, 2)), "--out", str(tmp_path / "r"),
                   "--no-report", "--notify", sink.url, "--notify", "json://127.0.0.1:9/",
                   "--notify-summary-at", "off"])
    assert rc == 0
    assert sink.posts  # it was tried
    assert any("not sent" in r.getMessage() for r in caplog.records if r.name == "sdl.notify")


def test_bad_url_is_one_clear_error_before_anything_runs(tmp_path, capsys):
    from sdl.cli import main

    rc = main(["run", str(sobol_campaign(tmp_path, 2)), "--out", str(tmp_path / "r"),
               "--notify", "notaservice://x"])
    assert rc == 2
    assert "not a URL Apprise understands" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_morning_summary_schedule_and_text(tmp_path):
    assert parse_hhmm("07:30") == (7, 30)
    with pytest.raises(Exception, match="HH:MM"):
        parse_hhmm("25:00")
    now = datetime(2026, 3, 1, 6, 59, 59)
    assert next_occurrence(now, (7, 0)) == datetime(2026, 3, 1, 7, 0)
    assert next_occurrence(datetime(2026, 3, 1, 7, 0), (7, 0)) == datetime(2026, 3, 2, 7, 0)
    assert next_occurrence(datetime(2026, 12, 31, 23, 0), (7, 0)) == datetime(2027, 1, 1, 7, 0)

    from sdl.cli import main

    assert main(["run", str(sobol_campaign(tmp_path, 2)), "--out", str(tmp_path / "r"),
                 "--no-report"]) == 0
    with JsonSink() as sink:
        n = Notifier([sink.url], tmp_path / "r", "cdse-620nm", summary_at=None)
        assert n.send_summary()
    (post,) = sink.posts
    assert post["title"] == "sdl cdse-620nm: morning summary"
    assert post["message"].startswith("complete: 2/2 experiments done, 0 failed.")


def test_morning_summary_thread_posts_at_the_set_time(tmp_path):
    import time

    from sdl.cli import main

    assert main(["run", str(sobol_campaign(tmp_path, 2)), "--out", str(tmp_path / "r"),
                 "--no-report"]) == 0
    # an injected clock 0.2 s before 07:00: the thread's first wait is 0.2 s
    clock = lambda: datetime(2026, 3, 1, 6, 59, 59, 800_000)  # noqa: E731
    with JsonSink() as sink:
        n = Notifier([sink.url], tmp_path / "r", "cdse-620nm", summary_at="07:00", now=clock)
        n.start()
        t0 = time.monotonic()
        while not sink.posts and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        n.close()
    assert sink.posts and sink.posts[0]["title"] == "sdl cdse-620nm: morning summary"


def test_resume_notify_posts_on_stop(tmp_path):
    from sdl.cli import main
    from tests.sdl.serve.helpers import SteppedRun

    run = SteppedRun(sobol_campaign(tmp_path, 3), tmp_path / "r")
    run.step()
    run.rig.close()
    run.session.close()  # no stopped event: as after a crash
    with JsonSink() as sink:
        rc = main(["resume", str(tmp_path / "r"), "--no-report", "--notify", sink.url,
                   "--notify-summary-at", "off"])
    assert rc == 0
    # a Sobol point may meet the target on the way (its own alert); the stop is posted last
    titles = [p["title"] for p in sink.posts]
    assert titles[-1] == "sdl cdse-620nm: finished (budget)", titles
    assert all("target reached" in t for t in titles[:-1]), titles
    assert "3/3 experiments done" in sink.posts[-1]["message"]
