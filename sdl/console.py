"""Console output for long commands: one log line per experiment and a live progress bar
(experiment k of n, best so far, ETA) when stdout is a terminal."""

from __future__ import annotations

import math
import sys
from typing import Any


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 experiment', '2 experiments' (`many` for irregular plurals)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def sig4(x: Any) -> str:
    """A number for people: 4 significant digits (the record and --json keep full
    precision); other values as they are."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if isinstance(x, int):
        return str(x)
    return f"{x:.4g}" if math.isfinite(x) else str(x)


def estimate_text(o: Any) -> str:
    """An outcome for people: '618.2 ± 0.4', '31' (no error bar given: no '± 0'), or its
    marker ('flat_spectrum')."""
    if not isinstance(o, dict):
        return str(o)
    v = o.get("value")
    if v is None:
        return str(o.get("no_outcome") or "n/a")
    se = o.get("stderr")
    if isinstance(se, int | float) and not isinstance(se, bool) and math.isfinite(se) and se > 0:
        return f"{sig4(v)} ± {se:.2g}"
    return sig4(v)


class LoopConsole:
    """`say(line)` prints a line above the bar; `progress(done, total, best)` moves it."""

    def __init__(self, total: int, done: int = 0):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.console = Console(highlight=False, soft_wrap=True)
        self._progress: Any = None
        if sys.stdout.isatty():
            self._progress = Progress(
                TextColumn("experiment"), MofNCompleteColumn(), BarColumn(),
                TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[best]}"),
                console=self.console, transient=True,
            )
            self._task = self._progress.add_task("run", total=total, completed=done, best="")

    def __enter__(self) -> LoopConsole:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def say(self, line: str) -> None:
        self.console.print(line, markup=False)

    def progress(self, done: int, total: int, best: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total, best=best[:80])
