"""`sdl bench dashboard [--experiments N] [--poll-ms MS] [--json]`: how long the live
dashboard takes to show an experiment after `sdl run` commits it.

A run of the default campaign (Sobol strategy, built-in simulator) is written step by step
in this process while `sdl serve` (a subprocess) serves it and headless Debian chromium
(Playwright, /usr/bin/chromium) shows the page. For each experiment (started at a random
phase of the page's polling): latency = time from the terminal event's commit to the
page's "done / budget" text changing. Also reports the
wall time of one `GET /api/runs/{name}/view` and the server's CPU seconds over the whole
run (from /proc), so a figure taken under load can be read against the CPU it got.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(n: int, poll_ms: int) -> dict:
    from playwright.sync_api import sync_playwright

    from sdl.loop import run_trial
    from sdl.rigs import simulated_rig
    from sdl.session import Session

    tmp = Path(tempfile.mkdtemp(prefix="sdl-bench-dashboard-"))
    camp = tmp / "c.toml"
    camp.write_text((ROOT / "campaigns/cdse_620nm.toml").read_text()
                    .replace('kind = "bo"', 'kind = "sobol"')
                    .replace("experiments = 60", f"experiments = {n + 1}"))
    session = Session.create(camp, out=tmp / "runs" / "bench")
    rig = simulated_rig(session.campaign)
    rig.prepare()
    limits = rig.limits()

    def step() -> float:
        (trial,) = session.ask(1)
        run_trial(session, rig, trial, limits, None, session.campaign.wants_photons)
        return time.time()

    step()  # JIT-compiles the analysis before anything is timed
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "sdl.cli", "serve", str(tmp / "runs"),
                               "--port", str(port), "--poll-ms", str(poll_ms)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    lat, view_s = [], []
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/api/runs", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        cpu0 = _cpu_seconds(server.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(base + "/")
            budget = n + 1
            page.wait_for_function(
                f"document.getElementById('n-done').textContent === '1 / {budget}'")
            rng = random.Random(0)
            for k in range(2, budget + 1):
                # a random phase against the page's polling, as a real run would have
                time.sleep(rng.uniform(0.0, poll_ms / 1000.0))
                t = step()
                page.wait_for_function(
                    f"document.getElementById('n-done').textContent === '{k} / {budget}'",
                    polling=10, timeout=60_000)
                lat.append(time.time() - t)
                t0 = time.perf_counter()
                urllib.request.urlopen(base + "/api/runs/bench/view", timeout=10).read()
                view_s.append(time.perf_counter() - t0)
            browser.close()
        cpu = _cpu_seconds(server.pid) - cpu0
    finally:
        server.terminate()
        server.wait(timeout=10)
        session.stop("budget")
        rig.close()
        session.close()
    lat.sort()
    return {"experiments": n, "poll_ms": poll_ms,
            "latency_s": {"median": statistics.median(lat), "p90": lat[int(0.9 * (len(lat) - 1))],
                          "max": lat[-1], "min": lat[0]},
            "view_request_s_median": statistics.median(view_s),
            "server_cpu_s": cpu, "load_average_1min": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="sdl bench dashboard")
    p.add_argument("--experiments", type=int, default=20)
    p.add_argument("--poll-ms", type=int, default=1000)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    r = measure(a.experiments, a.poll_ms)
    if a.json:
        print(json.dumps(r, indent=2))
    else:
        lt = r["latency_s"]
        print(f"dashboard update latency over {r['experiments']} experiments, page polling every "
              f"{r['poll_ms']} ms: median {lt['median']:.3f} s, p90 {lt['p90']:.3f} s, max "
              f"{lt['max']:.3f} s (min {lt['min']:.3f} s); GET /view {r['view_request_s_median'] * 1e3:.1f} ms "
              f"median; server CPU {r['server_cpu_s']:.2f} s; load average {r['load_average_1min']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
