"""Console output for long commands: one log line per experiment (with the time it took
and the ETA), a line while the optimiser is thinking, and a live progress bar
(experiment k of n, best so far, ETA) when stdout is a terminal."""

from __future__ import annotations

import math
import sys
from typing import Any, Self


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


def progress_bar(console: Any, label: str, field: str) -> Any:
    """A transient rich bar: `label`, done/total, bar, ETA, then the free text
    `task.fields[field]` (give it in `add_task(..., field=...)`)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn(label), MofNCompleteColumn(), BarColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), TextColumn(f"{{task.fields[{field}]}}"),
                    console=console, transient=True)


class ProgressScope:
    """Context manager for an optional bar in `self._progress` (None when not a terminal):
    started on enter, stopped on exit."""

    _progress: Any = None

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


class LoopConsole(ProgressScope):
    """`say(line)` prints a line above the bar; `progress(done, total, best)` moves it."""

    def __init__(self, total: int, done: int = 0):
        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=True)
        if sys.stdout.isatty():
            self._progress = progress_bar(self.console, "experiment", "best")
            self._task = self._progress.add_task("run", total=total, completed=done, best="")

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
        n_prior = sum(len(p.get("rows") or []) for p in getattr(session.state, "priors", []))
        kind = session.campaign.strategy.kind
        initial = session.campaign.strategy.initial
        what = ("fitting models and choosing" if kind == "bo" and n_done + n_prior >= initial
                else "choosing")
        seen = f"{n_done} results so far" + (f" + {n_prior} prior" if n_prior else "")
        line = f"optimiser thinking: {what} {session.next_id()} ({seen})..."
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
