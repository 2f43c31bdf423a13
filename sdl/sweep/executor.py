"""Run independent tasks serially or on Dask distributed, results in task order.

* serial (default, `workers=1`, no scheduler): in this process, no Dask needed.
* `workers=N > 1`: a `distributed.LocalCluster` of N single-threaded worker processes
  (each task is single-threaded anyway: the optimiser pins torch to one thread so its
  arithmetic, and so its proposals, do not depend on the machine).
* `scheduler="tcp://host:8786"`: an existing Dask scheduler (a `dask-jobqueue` Slurm/PBS
  cluster, `dask scheduler` + `dask worker`, ...). Workers need this package installed and
  the output directory on a shared file system.

Each task is a pure function of its arguments, so the engine does not change a result:
serial and Dask runs give identical rows for the same tasks. `fn` must be importable by
the workers (a module-level function).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sdl.console import ProgressScope, progress_bar
from sdl.errors import SdlError

CLUSTER_HINT = "install the cluster extra: .venv/bin/pip install -e '.[cluster]'"


class ClusterUnavailable(SdlError):
    """Dask distributed is missing or the scheduler cannot be reached."""


def _dask():
    try:
        import distributed
    except ModuleNotFoundError:
        raise ClusterUnavailable(f"--workers > 1 and --scheduler need Dask distributed; "
                                 f"{CLUSTER_HINT}") from None
    return distributed


def run_tasks(fn: Callable[[Any], Any], tasks: Sequence[Any], *, workers: int = 1,
              scheduler: str | None = None,
              progress: Callable[[int, int, Any], None] | None = None) -> list[Any]:
    """`[fn(t) for t in tasks]`, serially or on Dask (see module docstring).

    Args:
        fn: module-level function of one task.
        tasks: plain-data tasks (pickled to the workers).
        workers: local worker processes (1: serial, in this process).
        scheduler: address of an existing Dask scheduler (overrides `workers`).
        progress: called as progress(done, total, result) after each task.

    Returns:
        Results in the order of `tasks`.

    Raises:
        ClusterUnavailable: Dask missing, or the scheduler unreachable.
        Whatever `fn` raised, for the first task that failed.
    """
    if workers < 1:
        raise SdlError(f"--workers {workers}: allowed: 1 or more")
    if scheduler is None and workers == 1:
        out = []
        for i, t in enumerate(tasks):
            out.append(fn(t))
            if progress:
                progress(i + 1, len(tasks), out[-1])
        return out
    distributed = _dask()
    import logging

    for name in ("distributed", "bokeh", "tornado"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as e:
            raise ClusterUnavailable(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        cluster = None
    else:
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                           processes=True, dashboard_address=None,
                                           silence_logs=40)
        client = distributed.Client(cluster)
    try:
        futures = client.map(fn, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(futures)
        for n, fut in enumerate(distributed.as_completed(futures), start=1):
            res = fut.result()  # re-raises the task's exception here
            out[index[fut.key]] = res
            if progress:
                progress(n, len(futures), res)
        return out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class Bar(ProgressScope):
    """A rich progress bar with ETA when stdout is a terminal, else one line per task."""

    def __init__(self, total: int, label: str = "task", quiet: bool = False):
        import sys

        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=True, stderr=True)
        self.quiet = quiet
        self.t0 = time.perf_counter()
        if sys.stderr.isatty() and not quiet:
            self._progress = progress_bar(self.console, label, "last")
            self._task = self._progress.add_task(label, total=total, last="")

    def __call__(self, done: int, total: int, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done, last=text[:60])
        elif not self.quiet:
            self.console.print(f"[{done}/{total}] {text} ({time.perf_counter() - self.t0:.0f} s)",
                               markup=False)
