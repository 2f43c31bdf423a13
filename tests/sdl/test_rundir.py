"""The writer lock: one writer per run directory, no LOCK left after a clean stop, a stale
LOCK (its writer died) reclaimed with a message."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sdl.errors import RunDirectoryLocked
from sdl.rundir import RunLock, is_locked


def test_clean_release_removes_the_lock_file(tmp_path):
    lock = RunLock(tmp_path).acquire()
    assert (tmp_path / "LOCK").read_text() == str(__import__("os").getpid())
    assert is_locked(tmp_path)
    lock.release()
    assert not (tmp_path / "LOCK").exists() and not is_locked(tmp_path)
    assert RunLock(tmp_path).acquire().note is None  # nothing stale to report


def test_second_writer_is_refused_while_the_first_lives(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunDirectoryLocked, match="in use by pid"):
            RunLock(tmp_path).acquire()


def test_stale_lock_of_a_dead_writer_is_reclaimed_with_a_message(tmp_path):
    # a writer killed with -9: the kernel dropped its flock, its LOCK file stayed
    code = ("import os, sys; from sdl.rundir import RunLock; RunLock(sys.argv[1]).acquire(); "
            "print(os.getpid(), flush=True); os.kill(os.getpid(), 9)")
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    dead_pid = p.stdout.strip()
    assert p.returncode == -9 and (tmp_path / "LOCK").read_text() == dead_pid
    lock = RunLock(tmp_path).acquire()
    assert lock.note == (f"reclaimed a stale LOCK in {tmp_path}: its writer (pid {dead_pid}) is "
                         "no longer running; nothing else holds the run")
    with pytest.raises(RunDirectoryLocked):
        RunLock(tmp_path).acquire()
    lock.release()


def test_a_waiting_opener_of_a_removed_lock_does_not_share_it(tmp_path):
    """Writer A releases (unlinking LOCK) after B opened the old file: B must lock the new
    file, so that a third writer C cannot hold the run at the same time."""
    import fcntl
    import os

    a = RunLock(tmp_path).acquire()
    old_fd = os.open(tmp_path / "LOCK", os.O_RDWR)  # B's open() of the old inode
    a.release()
    fcntl.flock(old_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # B would get the stale inode...
    c = RunLock(tmp_path).acquire()  # ...while C makes and locks a new LOCK
    b = RunLock(tmp_path)
    with pytest.raises(RunDirectoryLocked):
        b.acquire()  # the real acquire re-checks the inode and finds C's lock
    c.release()
    os.close(old_fd)
