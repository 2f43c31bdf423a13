"""Run directories: `runs/<name>-<utc>/` with campaign.toml, rig.toml, record.sqlite,
raw/<exp>.h5, report.html and LOCK.

One writer per run directory: the writer holds an exclusive `flock` on LOCK for its whole
life and removes the file when it stops cleanly. The kernel drops the lock when the process
dies (even by kill -9): the LOCK file left behind is stale, and the next writer reclaims it
safely (the flock, not the file's presence, decides) and says so. A second writer while the
first is alive fails at once with a clear message.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path

from sdl.errors import RecordError, RunDirectoryLocked

RECORD_NAME = "record.sqlite"
CAMPAIGN_NAME = "campaign.toml"
RIG_NAME = "rig.toml"
LOCK_NAME = "LOCK"
RAW_DIR = "raw"
REPORT_NAME = "report.html"


def new_run_dir(base: str | Path, campaign_name: str) -> Path:
    """Create `base/<campaign_name>-<utc timestamp>` (unique) and its raw/ folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(base)
    for i in range(1000):
        d = base / (f"{campaign_name}-{stamp}" + (f"-{i}" if i else ""))
        try:
            d.mkdir(parents=True)
        except FileExistsError:
            continue
        (d / RAW_DIR).mkdir()
        return d
    raise RecordError(f"cannot create a run directory under {base}")


def prepare_out_dir(out: str | Path) -> Path:
    """Use `out` as the run directory: it must be new or empty."""
    d = Path(out)
    if d.exists() and any(d.iterdir()):
        raise RecordError(f"{d} is not empty; use `sdl resume {d}` to continue that run, "
                          "or choose a new --out directory")
    d.mkdir(parents=True, exist_ok=True)
    (d / RAW_DIR).mkdir(exist_ok=True)
    return d


def is_run_dir(d: str | Path) -> bool:
    return (Path(d) / RECORD_NAME).exists()


def require_run_dir(d: str | Path) -> Path:
    p = Path(d)
    if not p.is_dir():
        raise RecordError(f"{p}: no such run directory")
    if not is_run_dir(p):
        raise RecordError(f"{p}: not a run directory (no {RECORD_NAME})")
    return p


class RunLock:
    """Exclusive writer lock on `<run>/LOCK` (context manager).

    Attributes:
        note: after `acquire`, a line for the user when a stale LOCK was reclaimed.
    """

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None
        self.note: str | None = None

    def acquire(self) -> RunLock:
        for _ in range(100):  # retried only when another process removed LOCK meanwhile
            existed = self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
                finally:
                    os.close(fd)
                raise RunDirectoryLocked(
                    f"{self.path.parent} is in use by pid {holder}; only one writer per run "
                    "directory (wait for it to finish, or stop it first)"
                ) from None
            # A writer that stopped cleanly unlinks LOCK while holding it: if the file we
            # locked is no longer the one at the path, lock the new one instead.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            old = os.read(fd, 64).decode(errors="replace").strip()
            if existed and old:
                self.note = (f"reclaimed a stale LOCK in {self.path.parent}: its writer (pid "
                             f"{old}) is no longer running; nothing else holds the run")
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            os.fsync(fd)
            self._fd = fd
            return self
        raise RunDirectoryLocked(f"{self.path.parent}: cannot take the LOCK (it keeps changing)")

    def release(self, *, remove: bool = True) -> None:
        """Release the lock; by default remove LOCK first (a clean stop leaves none)."""
        if self._fd is not None:
            if remove:
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(run_dir: str | Path) -> bool:
    """True when a live writer holds the run directory (for `sdl status`)."""
    path = Path(run_dir) / LOCK_NAME
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
