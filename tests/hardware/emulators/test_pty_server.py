"""The pty server's reader thread must never touch a file descriptor it no longer owns.

Regression for an order-dependent failure (issue 14): when a port "vanishes" the server
closes its pty master; a reader thread that had already picked up the old descriptor
number went on to `select`/`read` it after the number had been reused by the next
`open()` in the process, e.g. `sdl run` reading its campaign file, and swallowed that
file's bytes (the campaign then parsed as empty: "missing every section").
"""

from __future__ import annotations

import os
import select
import threading

from hardware.emulators import pty_server
from hardware.emulators.pty_server import PtyServer
from hardware.emulators.wire import Wire


class _Silent:
    """A byte device that never answers (the test is about the line, not a device)."""

    def feed(self, data: bytes) -> list[bytes]:
        return []


def test_reader_never_reads_a_descriptor_reused_after_the_port_vanished(tmp_path, monkeypatch):
    wire = Wire("line", _Silent())
    server = PtyServer(wire, link_path=tmp_path / "port")
    picked_up = threading.Event()   # the reader holds the old fd number, about to select
    reused = threading.Event()      # the test has closed the pty and reused the number
    calls = []

    def racing_select(r, w, x, timeout):
        if not calls:
            calls.append(r)
            picked_up.set()
            reused.wait(5)
        return real(r, w, x, timeout)

    real = select.select
    monkeypatch.setattr(pty_server.select, "select", racing_select)
    campaign = tmp_path / "campaign.toml"
    text = b"[campaign]\nname = 'x'\n" * 20
    campaign.write_bytes(text)
    server.start()
    try:
        assert picked_up.wait(5)
        old_fd = calls[0][0]
        wire.set_present(False)          # the port vanishes: pty closed
        fd = os.open(campaign, os.O_RDONLY)  # the next open() in the process
        try:
            assert fd == old_fd, "the test needs the number reused (lowest free fd)"
            reused.set()
            for _ in range(20):              # let the reader run a few loops
                threading.Event().wait(0.01)
            assert os.read(fd, 100_000) == text  # nothing was swallowed by the reader
        finally:
            os.close(fd)
    finally:
        reused.set()
        server.stop()
