"""Hardware-in-the-loop rehearsal: `sdl run campaign.toml --rig OUT.toml` over the real
drivers and real pseudo-terminals, every device emulated and sharing one simulated reactor
(the emulated world runs `SPEED` times faster than the wall clock; the rig file's optics
device carries the same `time_scale`, so FlowRig waits in emulated time).

The run directory must be the same kind the simulator produces and pass `sdl.audit`.
Faults are injected through the emulators' back channel while the campaign runs, the way
an operator would with `sdl emulate`'s control socket.
"""

from __future__ import annotations

import itertools
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hardware.emulators.rig_emulator import EmulatedRig
from hardware.emulators.world import WallClock
from hardware.optics_path import register_world, unregister_world
from sdl.analysis.photon_files import write_ptu
from sdl.audit import audit
from sdl.cli import main
from sdl.commands.emulate import rig_to_toml
from sdl.schema.rig import RigFile
from tests.hardware.flowrig_fixtures import RIG_TOML
from tests.runs import ROOT, rig_campaign, run_events, run_state, wait_for_file

SPEED = 100.0
_ids = itertools.count()


class Rehearsal:
    """Emulators on ptys + the rig file `sdl run --rig` reads.

    `optics`: extra keys of the rig file's optics device, e.g. a reference dye (which the
    emulators then emulate, `EmulatedRig`)."""

    def __init__(self, tmp_path: Path, **optics: Any):
        data = tomllib.loads(RIG_TOML)
        data["devices"] = [d for d in data["devices"] if d["role"] != "photon_timer"]
        for d in data["devices"]:
            if d["role"] == "pump":
                d["watchdog_s"] = 255  # 2.5 s of wall time at SPEED: BO and numba compiles
        self.key = f"rehearsal-{next(_ids)}"
        data["devices"].append({"role": "optics", "name": "optics", "time_scale": SPEED,
                                "port": f"emuworld://{self.key}", **optics})
        self.emu = EmulatedRig(RigFile.model_validate(data), clock=WallClock(SPEED), seed=3,
                               photon_writer=write_ptu)
        urls = self.emu.start("pty", link_dir=tmp_path)
        for d in data["devices"]:
            if d["name"] in urls:  # the optics device is reached through the world instead
                d["port"] = urls[d["name"]]
        register_world(self.key, self.emu.world)
        self.rig_path = tmp_path / "OUT.toml"
        self.rig_path.write_text(rig_to_toml(data), encoding="utf-8")
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def _tick(self) -> None:  # what `sdl emulate`'s main loop does
        while not self._stop.wait(0.01):
            self.emu.world.tick()

    def pumps_running(self) -> bool:
        return any(p.running for n, p in self.emu.devices.items() if n.startswith("pump"))

    def close(self) -> None:
        self._stop.set()
        self._ticker.join(2)
        self.emu.stop()
        unregister_world(self.key)


@pytest.fixture
def rehearsal(tmp_path):
    r = Rehearsal(tmp_path)
    yield r
    r.close()


class _FaultAfter(threading.Thread):
    """Inject `fault` on `device` once the pumps have run for `after_s` emulated seconds
    in their `nth` run; records the wall time of the injection and of the safe state
    (every pump stopped and the core heater at its idle setpoint)."""

    def __init__(self, r: Rehearsal, device: str, fault: str, nth: int, after_s: float):
        super().__init__(daemon=True)
        self.r, self.device, self.fault, self.nth, self.after_s = r, device, fault, nth, after_s
        self.injected_at: float | None = None
        self.safe_at: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        runs, started, was = 0, None, False
        world = self.r.emu.world
        heater = self.r.emu.devices["heater_core"]
        while not self.done.is_set():
            running = self.r.pumps_running()
            if running and not was:
                runs, started = runs + 1, world.now()
            was = running
            if self.injected_at is None and runs == self.nth and running \
                    and world.now() - started >= self.after_s:
                self.r.emu.inject(self.device, self.fault)
                self.injected_at = time.perf_counter()
            if self.injected_at is not None and not self.r.pumps_running() \
                    and abs(heater.target_c - 25.0) < 1e-6:
                self.safe_at = time.perf_counter()
                return
            time.sleep(0.0005)


def _campaign(tmp_path: Path, budget: int) -> Path:
    return rig_campaign(tmp_path, budget, residence_s=(10, 40), temperature_c=(230, 270))


def _run_with_fault(r: Rehearsal, tmp_path: Path, budget: int, fault: _FaultAfter) -> int:
    """`sdl run` of a `budget`-experiment campaign on the rehearsal rig into tmp_path/run
    while `fault` watches and injects; returns the exit code."""
    campaign = _campaign(tmp_path, budget)
    fault.start()
    try:
        return main(["run", str(campaign), "--rig", str(r.rig_path),
                     "--out", str(tmp_path / "run"), "--no-report"])
    finally:
        fault.done.set()


def test_rehearsal_campaign_end_to_end_over_ptys_with_an_interlock(rehearsal, tmp_path, capsys):
    out = tmp_path / "run"
    fault = _FaultAfter(rehearsal, "pump_metal", "stall", nth=2, after_s=10.0)
    code = _run_with_fault(rehearsal, tmp_path, 4, fault)
    text = capsys.readouterr().out
    assert code == 0, text
    assert text.splitlines()[0].startswith("Running 'cdse-620nm' on the rig in")
    st = run_state(out)
    assert len(st.completed) == 4 and st.stopped["reason"] == "budget"
    failed = [e for e in st.completed if e.status == "failed"]
    scored = [e for e in st.completed if e.status == "scored"]
    assert [e.failure["reason"] for e in failed if e.failure["kind"] == "interlock"] == \
        ["pump_stall:pump_metal"]
    assert len(scored) >= 2
    peaks = [e.outcomes["pl_peak_nm"].get("value") for e in scored]
    assert any(p is not None and 450 < p < 700 for p in peaks), peaks  # spectra were scored
    # the same kind of run directory as the simulator path, untampered
    assert (out / "rig.toml").exists() and (out / "campaign.toml").exists()
    assert sorted(p.name for p in (out / "raw").iterdir()) == \
        sorted(f"{e.experiment_id}.h5" for e in st.completed if e.raw_file)
    result = audit(out)
    assert result.clean, result.problems
    kinds = [e.kind for e in run_events(out)]
    assert kinds[-2:] == ["safe_state", "stopped"]
    # the rig ended safe: pumps stopped, heater idle
    assert not rehearsal.pumps_running()
    assert rehearsal.emu.devices["heater_core"].target_c == pytest.approx(25.0)
    # trigger -> safe state over real ptys, observed on the emulated devices
    assert fault.injected_at is not None and fault.safe_at is not None
    latency = fault.safe_at - fault.injected_at
    print(f"\nrehearsal: pump stall -> safe state in {latency * 1e3:.1f} ms (ptys, wall clock)")
    assert latency <= 1.0


@pytest.mark.slow
def test_rehearsal_lost_device_stops_cleanly_then_resumes(rehearsal, tmp_path, capsys):
    out = tmp_path / "run"
    code = _run_with_fault(rehearsal, tmp_path, 2,
                           _FaultAfter(rehearsal, "heater_core", "vanish", nth=1, after_s=5.0))
    captured = capsys.readouterr()
    assert code == 3, captured.out
    assert "Traceback" not in captured.out + captured.err
    st = run_state(out)
    assert st.stopped["reason"] == "error" and "heater_core stopped answering" in st.stopped["detail"]
    assert [e.kind for e in run_events(out)][-2:] == ["safe_state", "stopped"]
    assert not rehearsal.pumps_running()
    assert audit(out).clean
    # nothing lost: the interrupted experiment is still there, dispatched, and is re-run
    assert [e.status for e in st.unfinished] == ["dispatched"]
    rehearsal.emu.wire_of("heater_core").restore()
    assert main(["resume", str(out), "--no-report"]) == 0
    st = run_state(out)
    assert len(st.completed) == 2 and not st.unfinished
    assert audit(out).clean


def test_missing_device_is_hardware_unavailable_and_fallback_simulates(rehearsal, tmp_path, capsys):
    rehearsal.emu.wire_of("sts").inject("vanish")
    out = tmp_path / "run"
    campaign = str(_campaign(tmp_path, 2))
    assert main(["run", campaign, "--rig", str(rehearsal.rig_path), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "sts" in err and "Traceback" not in err and not out.exists()
    code = main(["run", campaign, "--rig", str(rehearsal.rig_path), "--out", str(out),
                 "--fallback-to-simulator", "--no-report"])
    text = capsys.readouterr().out
    assert code == 0 and text.splitlines()[0].startswith("!!! SIMULATING")


@pytest.mark.slow
def test_rehearsal_with_sdl_emulate_subprocess(tmp_path):
    """The documented rehearsal: `sdl emulate RIG --write-rig OUT --speed N` in one
    process, `sdl run campaign --rig OUT` in another; the light path goes through the
    emulator's control socket (`optics:<lamp|excitation|dark|sample|solvent>`)."""
    import subprocess
    import sys

    data = tomllib.loads(RIG_TOML)
    data["devices"] = [d for d in data["devices"] if d["role"] != "photon_timer"]
    for d in data["devices"]:
        if d["role"] == "pump":
            d["watchdog_s"] = 255
    data["devices"].append({"role": "optics", "name": "optics", "port": "tcp://127.0.0.1:1"})
    rig_in, rig_out = tmp_path / "rig.toml", tmp_path / "OUT.toml"
    rig_in.write_text(rig_to_toml(data), encoding="utf-8")
    emu = subprocess.Popen([sys.executable, "-m", "sdl.cli", "emulate", str(rig_in),
                            "--write-rig", str(rig_out), "--speed", str(SPEED)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_file(emu, rig_out, 30)
        optics = [d for d in tomllib.loads(rig_out.read_text())["devices"]
                  if d["role"] == "optics"]
        assert emu.poll() is None and optics, emu.stdout.read() if emu.poll() is not None else ""
        assert optics[0]["port"].startswith("tcp://127.0.0.1:") and optics[0]["time_scale"] == SPEED
        out = tmp_path / "run"
        run = subprocess.run([sys.executable, "-m", "sdl.cli", "run", str(_campaign(tmp_path, 3)),
                              "--rig", str(rig_out), "--out", str(out), "--no-report"],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        assert len(run_state(out).completed) == 3 and audit(out).clean
    finally:
        emu.terminate()
        emu.wait(10)
