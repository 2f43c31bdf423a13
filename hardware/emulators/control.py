"""Local control socket: the CLI back channel for fault injection into running emulators.

Line protocol over TCP on 127.0.0.1: send a fault spec per line (`pump_metal:stall`,
`sts:not_ready=3@60s`, `hbt:acquire=2`); the reply line is `ok` or `error: <message>`.
Never reachable through the emulated serial lines.
"""

from __future__ import annotations

import socket
import socketserver
import threading

from hardware.emulators.rig_emulator import EmulatedRig, parse_fault_spec


class ControlServer:
    """Serve fault injection for `rig` on 127.0.0.1:`port` (0 = any free port)."""

    def __init__(self, rig: EmulatedRig, port: int = 0):
        rig_ref = rig

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    text = line.decode("utf-8", "replace").strip()
                    if not text:
                        continue
                    try:
                        rig_ref.apply(parse_fault_spec(text))
                        answer = "ok"
                    except Exception as e:  # noqa: BLE001 - report any failure to the client
                        answer = f"error: {e}"
                    self.wfile.write((answer + "\n").encode())

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="emu-control")

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def send_fault(port: int, spec: str, timeout_s: float = 5.0) -> str:
    """Client: send one fault spec to a running `sdl emulate`; return the reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
        s.sendall(spec.encode() + b"\n")
        f = s.makefile("rb")
        return f.readline().decode().strip()
