"""Serve a `Wire` on a local TCP socket, for drivers opening `socket://127.0.0.1:PORT`.

Cross-platform alternative to `PtyServer` (pyserial's socket:// handler). One client at a
time, as on a serial line; "port vanishes" drops the client and refuses new ones until
"restore".
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from hardware.emulators.wire import Wire

log = logging.getLogger(__name__)


class SocketServer:
    """Accept one TCP client at a time on 127.0.0.1 and bridge it to `wire`."""

    def __init__(self, wire: Wire, port: int = 0):
        self.wire = wire
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(1)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"sock-{wire.name}")
        wire.on_presence.append(self._presence_changed)

    @property
    def path(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def start(self) -> SocketServer:
        self._thread.start()
        return self

    def _send(self, data: bytes) -> None:
        with self._lock:
            client = self._client
        if client is not None:
            with contextlib.suppress(OSError):  # the client went away
                client.sendall(data)

    def _drop(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def _presence_changed(self, present: bool) -> None:
        if not present:
            self._drop()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._client is None:
                try:
                    client, _ = self._sock.accept()
                except (TimeoutError, OSError):
                    continue
                if not self.wire.present:
                    client.close()
                    continue
                client.settimeout(0.1)
                with self._lock:
                    self._client = client
                self.wire.attach(self._send)
                continue
            try:
                data = self._client.recv(4096)
            except TimeoutError:
                continue
            except (OSError, AttributeError):
                self._drop()
                continue
            if not data:
                self._drop()
                continue
            self.wire.receive_logged(data)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._drop()
        self._sock.close()
        if self._presence_changed in self.wire.on_presence:
            self.wire.on_presence.remove(self._presence_changed)
