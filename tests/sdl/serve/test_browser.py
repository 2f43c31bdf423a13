"""`sdl serve` in a real headless browser (Debian's chromium through Playwright): the page
updates without a reload while a run appends experiments, and a screenshot is saved.

Measures the update latency (record commit -> DOM shows it) and writes it, with the
screenshot, to tmp_path (and to $SDL_BROWSER_ARTIFACTS when set). Latency is reported,
never asserted beyond "the update arrived" (speed is measured in benchmarks, not tests).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sdl.serve.helpers import SteppedRun, sobol_campaign

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
POLL_MS = int(os.environ.get("SDL_DASHBOARD_POLL_MS", "250"))

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout_s: float = 30.0) -> None:
    import urllib.request

    t0 = time.time()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.time() - t0 > timeout_s:
            raise TimeoutError(f"{url} did not answer in {timeout_s} s")
        time.sleep(0.1)


@pytest.fixture
def served_run(tmp_path):
    """A run with 2 experiments under tmp_path/runs, served by `sdl serve` (subprocess)."""
    budget = 6
    run = SteppedRun(sobol_campaign(tmp_path, budget), tmp_path / "runs" / "live")
    run.step()
    run.step()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdl.cli", "serve", str(tmp_path / "runs"), "--port", str(port),
         "--poll-ms", str(POLL_MS)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/runs")
        yield run, f"http://127.0.0.1:{port}/", budget
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if run.session.record is not None:
            try:
                run.close()
            except Exception:  # noqa: BLE001 - already closed by the test
                pass


def test_dashboard_updates_live_in_chromium(served_run, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    run, url, budget = served_run
    latencies = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(url)
            page.wait_for_function(
                f"document.getElementById('n-done').textContent === '2 / {budget}'",
                timeout=20_000)
            assert page.text_content("#run-state").startswith("running")
            page.wait_for_function("document.getElementById('eta').textContent.endsWith(' s') "
                                   "|| document.getElementById('eta').textContent.endsWith('min')",
                                   timeout=20_000)  # a live run shows an ETA
            page.evaluate("window.__no_reload_marker = 42")
            for k in range(3, budget + 1):
                committed = run.step()
                page.wait_for_function(
                    f"document.getElementById('n-done').textContent === '{k} / {budget}'",
                    timeout=20_000, polling=20)
                latencies.append(time.time() - committed)
            assert page.evaluate("window.__no_reload_marker") == 42  # updated in place
            run.close()
            page.wait_for_function(
                "document.getElementById('run-state').textContent.startsWith('complete')",
                timeout=20_000)
            # the plots are drawn by Plotly (served by the app, not a CDN)
            page.wait_for_selector("#trace-0 .main-svg", timeout=10_000)
            n_traces = page.locator("#traces .js-plotly-plot").count()
            n_pareto = page.locator("#pareto .js-plotly-plot").count()
            assert n_traces == 3  # pl_peak_nm, fwhm_nm, plqy
            assert n_pareto == 3  # every pair of the 3 objectives
            assert page.locator("#abs-plot .scatterlayer .trace").count() == 1
            assert page.locator("#pl-plot .scatterlayer .trace").count() == 1
            assert "|pl_peak_nm − 620| (nm)" in page.inner_text("#traces")
            assert page.text_content("#last-seq") == str(run.session.record._seq)
            assert page.text_content("#devlog").strip() not in ("", "—", "(empty)")
            assert page.text_content("#eta") == "—"  # nothing left to wait for
            # numbers in the device log are rounded for people (full precision is in the record)
            assert not re.search(r"\d\.\d{7,}", page.text_content("#devlog"))
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    result = {"poll_ms": POLL_MS, "latencies_s": latencies,
              "median_s": sorted(latencies)[len(latencies) // 2], "max_s": max(latencies)}
    (tmp_path / "latency.json").write_text(json.dumps(result, indent=1))
    out = os.environ.get("SDL_BROWSER_ARTIFACTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(out) / "dashboard.png")
        (Path(out) / "latency.json").write_text(json.dumps(result, indent=1))
    print(f"dashboard update latency (poll {POLL_MS} ms): {result}")


def test_sdl_serve_one_run_dir_serves_page_and_api(tmp_path):
    """Acceptance: `sdl serve RUN --port P` serves / and /api/runs (real server)."""
    import urllib.request

    run = SteppedRun(sobol_campaign(tmp_path, 2), tmp_path / "one")
    run.step()
    run.close()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sdl.cli", "serve", str(tmp_path / "one"),
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/runs")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs") as r:
            runs = json.loads(r.read())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as r:
            page = r.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert [x["run_dir"] for x in runs] == [str(tmp_path / "one")]
    assert runs[0]["experiments_completed"] == 1 and runs[0]["state"] == "complete"
    assert runs[0]["best"] is None or runs[0]["best"]["experiment_id"] == "e0001"
    assert "<title>sdl dashboard</title>" in page and 'id="n-done"' in page


def test_events_stream_as_server_sent_events_while_the_run_writes(tmp_path):
    """`Accept: text/event-stream` on /events follows the run: recorded events first, then
    each new one as it is committed (ids = seq, in order, no gaps)."""
    import http.client

    run = SteppedRun(sobol_campaign(tmp_path, 4), tmp_path / "runs" / "sse")
    run.step()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sdl.cli", "serve", str(tmp_path / "runs"),
                             "--port", str(port), "--poll-ms", "100"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/runs")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request("GET", "/api/runs/sse/events?after=0",
                     headers={"Accept": "text/event-stream"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("content-type").startswith("text/event-stream")

        def read_until(seq: int) -> list[dict]:
            got = []
            while not got or got[-1]["seq"] < seq:
                line = resp.fp.readline().decode()
                if line.startswith("data: "):
                    got.append(json.loads(line[6:]))
            return got

        first = read_until(run.session.record._seq)
        run.step()
        later = read_until(run.session.record._seq)
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        run.close()
    seqs = [e["seq"] for e in first + later]
    assert seqs == list(range(1, len(seqs) + 1))
    assert first[0]["kind"] == "campaign_started" and later[-1]["kind"] == "scored"
    assert later[-1]["experiment_id"] == "e0002"
