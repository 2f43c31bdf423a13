"""Console output for long commands: one log line per experiment (with the time it took
and the ETA), a line while the optimiser is thinking, and a live progress bar
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

    # --- loop hook (sdl.loop.run_loop(hooks=...)) ---------------------------------------
    def thinking(self, session: Any) -> None:
        """Say that the optimiser is choosing the next experiment(s) (BO can take a
        minute; without this line the run looks hung)."""
        if session.budget_left() <= 0:
            return
        n_done = len(session.state.completed)
        kind = session.campaign.strategy.kind
        initial = session.campaign.strategy.initial
        what = ("fitting models and choosing" if kind == "bo" and n_done >= initial
                else "choosing")
        line = f"optimiser thinking: {what} {session.next_id()} ({n_done} results so far)..."
        if self._progress is not None:
            self._progress.update(self._task, best=line[:80])
        else:
            self.say(line)


def timing_suffix(session: Any, experiment_id: str) -> str:
    """' (took 4.2 s; 6.1 s per experiment, ETA 3 min 20 s)' for the experiment just
    finished: its dispatch-to-finish time, the mean cycle time over the run's active time
    (optimiser included) and the ETA from the budget; '' when there is nothing to say."""
    from datetime import UTC, datetime

    from sdl.report.physical import eta, fmt_seconds

    st = session.state
    e = st.experiments.get(experiment_id)
    parts = []
    if e is not None and e.dispatched_at and st.last_ts:
        took = (datetime.fromisoformat(st.last_ts) - datetime.fromisoformat(e.dispatched_at))
        parts.append(f"took {fmt_seconds(took.total_seconds())}")
    hours = session.campaign.budget.hours
    est = eta(st, st.active_seconds(datetime.now(UTC)), hours)
    if est.seconds_per_experiment is not None:
        parts.append(f"{fmt_seconds(est.seconds_per_experiment)} per experiment, "
                     f"ETA {fmt_seconds(est.seconds_left)}")
    return f" ({'; '.join(parts)})" if parts else ""
