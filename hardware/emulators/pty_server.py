"""Serve a `Wire` on a real pseudo-terminal, so drivers open a device path unchanged.

`os.openpty()` then `tty.setraw()` on the slave at once (cooked mode would eat ETX and
rewrite CR/LF). A stable symlink (`link_path`) stands for `/dev/serial/by-id/...`; the
"port vanishes" fault closes the pty and removes the link, "returns" opens a new pty and
re-points the link, as a USB adapter does when re-plugged.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import tty
from pathlib import Path

from hardware.emulators.wire import Wire

log = logging.getLogger(__name__)


class PtyServer:
    """Pump bytes between a pty master and a `Wire` in a background thread.

    Args:
        wire: the emulated line.
        link_path: optional symlink to create to the slave device (stable port path).

    Attributes:
        path: the port path drivers should open (the link if given, else /dev/pts/N).
    """

    def __init__(self, wire: Wire, link_path: str | Path | None = None):
        self.wire = wire
        self.link_path = Path(link_path) if link_path else None
        self._master = -1
        self._slave = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self.slave_name = ""
        wire.on_presence.append(self._presence_changed)

    @property
    def path(self) -> str:
        return str(self.link_path) if self.link_path else self.slave_name

    def start(self) -> PtyServer:
        self._open_pty()
        self.wire.attach(self._write)  # stays attached; _write drops bytes while unplugged
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"pty-{self.wire.name}", daemon=True)
        self._thread.start()
        return self

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        self._master, self._slave = master, slave
        self.slave_name = os.ttyname(slave)
        if self.link_path:
            tmp = self.link_path.with_name(self.link_path.name + ".tmp")
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
            os.symlink(self.slave_name, tmp)
            os.replace(tmp, self.link_path)

    def _close_pty(self) -> None:
        if self.link_path and self.link_path.is_symlink():
            self.link_path.unlink()
        for fd in (self._master, self._slave):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = -1

    def _presence_changed(self, present: bool) -> None:
        with self._write_lock:
            if not present and self._master >= 0:
                self._close_pty()
            elif present and self._master < 0 and not self._stop.is_set():
                self._open_pty()

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            fd = self._master
            if fd < 0:
                return
            try:
                os.write(fd, data)
            except OSError as e:
                log.debug("%s: write failed: %s", self.wire.name, e)

    def _run(self) -> None:
        while not self._stop.is_set():
            fd = self._master
            if fd < 0:
                self._stop.wait(0.02)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if not ready:
                    continue
                with self._write_lock:
                    # The port may have vanished since `fd` was read: its number may now
                    # belong to a file another thread just opened. Read only our own pty.
                    if fd != self._master or not select.select([fd], [], [], 0)[0]:
                        continue
                    data = os.read(fd, 4096)
            except (OSError, ValueError):
                self._stop.wait(0.02)
                continue
            if data:
                self.wire.receive_logged(data)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._write_lock:
            self._close_pty()
        self.wire.attach(None)
        if self._presence_changed in self.wire.on_presence:
            self.wire.on_presence.remove(self._presence_changed)
