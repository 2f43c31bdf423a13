"""The light path capability and safe_state from a signal handler."""

from __future__ import annotations

import os
import signal
import socketserver
import threading

import pytest

from hardware.errors import HardwareError, PortUnavailable
from hardware.optics_path import (
    BackchannelLightPath,
    WorldLightPath,
    open_light_path,
    register_world,
    unregister_world,
)
from sdl.schema.rig import OpticsDevice
from sdl.vocab.rig import LightPath
from tests.hardware.flowrig_fixtures import conditions, make_bench


class _Control:
    """A stand-in control socket speaking the line protocol (`ok` / `error: ...`)."""

    def __init__(self, accept: bool = True):
        self.lines: list[str] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    text = line.decode().strip()
                    outer.lines.append(text)
                    ok = accept and text.startswith("optics:")
                    self.wfile.write(b"ok\n" if ok else b"error: unknown device 'optics'\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_backchannel_sends_one_line_per_switch():
    ctl = _Control()
    try:
        dev = OpticsDevice(role="optics", name="optics", port=f"tcp://127.0.0.1:{ctl.port}")
        path = open_light_path(dev)
        assert isinstance(path, BackchannelLightPath) and isinstance(path, LightPath)
        path.set_cell("solvent")
        path.set_light("lamp")
        path.set_light("dark")
        assert ctl.lines == ["optics:solvent", "optics:lamp", "optics:dark"]
        with pytest.raises(ValueError, match="light must be one of"):
            path.set_light("uv")
        assert len(ctl.lines) == 3
    finally:
        ctl.close()


def test_backchannel_refusal_and_absence_are_hardware_errors():
    ctl = _Control(accept=False)
    try:
        path = BackchannelLightPath("127.0.0.1", ctl.port, timeout_s=1.0)
        with pytest.raises(HardwareError, match="refused optics:lamp"):
            path.set_light("lamp")
    finally:
        ctl.close()
    with pytest.raises(PortUnavailable):
        BackchannelLightPath("127.0.0.1", ctl.port, timeout_s=0.5).set_light("lamp")


def test_world_light_path_and_bad_ports():
    class World:
        lock = threading.RLock()
        light, cell = "lamp", "sample"

    w = World()
    url = register_world("optics-test", w)
    try:
        path = open_light_path(OpticsDevice(role="optics", name="o", port=url))
        assert isinstance(path, WorldLightPath)
        path.set_light("excitation")
        path.set_cell("solvent")
        assert (w.light, w.cell) == ("excitation", "solvent")
    finally:
        unregister_world("optics-test")
    for port in ("emuworld://nobody", "127.0.0.1", "tcp://host:port"):
        with pytest.raises(PortUnavailable):
            open_light_path(OpticsDevice(role="optics", name="o", port=port))


def test_safe_state_from_a_signal_handler_mid_run(tmp_path):
    """A signal arriving while pumps flow stops them from the handler; the next poll sees
    that the rig was made safe under the run and fails the experiment as an interlock
    (no spectra are taken of a stopped reactor)."""
    b = make_bench(tmp_path)
    old = signal.signal(signal.SIGUSR1, lambda *_: b.rig.safe_state())
    try:
        b.rig.prepare()
        fired = []

        def hook(bench):
            if bench.rig.state == "flushing" and not fired:
                fired.append(1)
                os.kill(os.getpid(), signal.SIGUSR1)
        b.on_sleep.append(hook)
        raw = b.rig.run(conditions(), "e0001")
        assert fired and raw.failure is not None and raw.failure.kind == "interlock"
        assert raw.failure.reason == "safe_state_requested:rig"
        assert not [e for e in raw.device_log if e["kind"] == "acquire"]
        assert not any(p.running for n, p in b.emu.devices.items() if n.startswith("pump"))
        assert b.emu.devices["heater_core"].target_c == pytest.approx(25.0)
    finally:
        signal.signal(signal.SIGUSR1, old)
        b.close()
