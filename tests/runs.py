"""Test helpers shared by the end-to-end tests of the loop and of the rigs: short campaign
files cut from `campaigns/cdse_620nm.toml`, a run directory's folded state and events, and
an `sdl emulate` subprocess waited for and stopped."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from sdl.record import Record
from sdl.state import RunState, fold

ROOT = Path(__file__).resolve().parents[1]
CDSE_620 = ROOT / "campaigns" / "cdse_620nm.toml"


def short_campaign(tmp_path: Path, budget: int, initial: int, *,
                   replace: Sequence[tuple[str, str]] = (), name: str = "campaign.toml") -> Path:
    """cdse_620nm.toml with `budget` experiments, `initial` of them space-filling, and each
    (old, new) text replacement applied; written to `tmp_path / name`."""
    text = CDSE_620.read_text()
    text = text.replace("experiments = 60", f"experiments = {budget}")
    text = text.replace("initial = 8", f"initial = {initial}")
    for old, new in replace:
        text = text.replace(old, new)
    p = tmp_path / name
    p.write_text(text)
    return p


def rig_campaign(tmp_path: Path, budget: int, *, residence_s: tuple[int, int],
                 temperature_c: tuple[int, int]) -> Path:
    """A short all-initial campaign with ranges a small emulated reactor can serve:
    residence time and temperature as given (s, degC), ligand:metal 1-4, metal 5-30 mM."""
    return short_campaign(tmp_path, budget, budget, replace=[
        ("low = 10\nhigh = 600", "low = {}\nhigh = {}".format(*residence_s)),
        ("low = 220\nhigh = 300", "low = {}\nhigh = {}".format(*temperature_c)),
        ("low = 1.0\nhigh = 10.0", "low = 1.0\nhigh = 4.0"),
        ("low = 5\nhigh = 50", "low = 5\nhigh = 30"),
    ])


def run_state(run_dir: Path) -> RunState:
    """The folded state of a run directory's record."""
    with Record(run_dir / "record.sqlite", readonly=True) as rec:
        return fold(rec.events())


def run_events(run_dir: Path) -> list:
    """Every event of a run directory's record, in order."""
    with Record(run_dir / "record.sqlite", readonly=True) as rec:
        return list(rec.events())


def wait_for_file(proc: subprocess.Popen, path: Path, timeout_s: float) -> None:
    """Wait until `proc` (text stdout, stderr merged) has written `path`; fail with its
    output if it exited first, or after `timeout_s` wall seconds."""
    deadline = time.monotonic() + timeout_s
    while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert path.exists(), proc.stdout.read() if proc.poll() is not None else f"no {path.name}"
