"""Console output for long commands: one log line per experiment and a live progress bar
(experiment k of n, best so far, ETA) when stdout is a terminal."""

from __future__ import annotations

import sys
from typing import Any


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
