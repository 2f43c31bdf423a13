"""Run one sweep task: a whole simulated campaign in its own run directory.

A task whose run directory holds a complete run (stopped for budget, target or hours) is
not run again: its summary is read from the record. A run that stopped early or crashed
is resumed (`Session.open`, like `sdl resume`); an absent one is created. The campaign
runs quietly (no per-experiment lines); the summary row is plain data.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sdl.sweep.spec import SweepTask

#: Columns of a summary row, in order (the CSV header).
SUMMARY_FIELDS = ("task_id", "campaign_file", "strategy", "seed", "run_dir", "status",
                  "action", "experiments", "failed", "budget", "experiments_to_target",
                  "best_experiment", "best_utility", "best_outcomes", "best_conditions",
                  "seconds", "cpu_seconds")


def run_task(task: SweepTask) -> dict[str, Any]:
    """Run, resume or skip `task`; return its summary row (see `SUMMARY_FIELDS`)."""
    t0, c0 = time.perf_counter(), time.process_time()
    from sdl.rundir import RECORD_NAME
    from sdl.session import Session

    run_dir = Path(task.run_dir)
    if (run_dir / RECORD_NAME).exists():
        phase = _phase(run_dir)
        if phase == "complete":
            return summarise(task, "skipped", 0.0, 0.0)
        session = Session.open(run_dir)
        # a sweep's runs are always driven by the simulator they started on
        session.resumed(driver=session.driver, previous_phase=phase)
        action = "resumed"
    else:
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        campaign_path = run_dir.parent / f".{run_dir.name}.campaign.toml"
        campaign_path.write_text(task.campaign_toml, encoding="utf-8")
        session = Session.create(campaign_path, out=run_dir, budget=task.budget)
        campaign_path.unlink()
        action = "ran"
    _drive(session)
    return summarise(task, action, time.perf_counter() - t0, time.process_time() - c0)


def _drive(session: Any) -> None:
    from sdl.loop import run_loop
    from sdl.rigs import simulated_rig

    try:
        result = run_loop(session, simulated_rig(session.campaign), say=lambda line: None)
    finally:
        session.close()
    if result.exit_code != 0:
        from sdl.errors import SdlError

        raise SdlError(f"{session.run_dir}: campaign stopped ({result.reason}: {result.detail}); "
                       f"see `sdl status {session.run_dir}`")


def _phase(run_dir: Path) -> str:
    from sdl.record import Record
    from sdl.rundir import RECORD_NAME, is_locked
    from sdl.state import fold, run_phase

    with Record(run_dir / RECORD_NAME, readonly=True) as rec:
        return run_phase(fold(rec.events()), is_locked(run_dir))


def summarise(task: SweepTask, action: str, seconds: float, cpu_seconds: float) -> dict[str, Any]:
    """The summary row of a task's run directory, read from its record."""
    from sdl.record import Record
    from sdl.rundir import RECORD_NAME, is_locked
    from sdl.schema.load import campaign_from_toml
    from sdl.state import fold, run_phase
    from sdl.utility import best_index, target_reached, utilities

    run_dir = Path(task.run_dir)
    with Record(run_dir / RECORD_NAME, readonly=True) as rec:
        st = fold(rec.events())
    campaign = campaign_from_toml(st.started["campaign_toml"])
    done = st.completed
    to_target = next((i + 1 for i, e in enumerate(done)
                      if e.status == "scored" and target_reached(campaign, e.outcomes)), None)
    scored = [e for e in done if e.status == "scored"]
    i = best_index(campaign, [e.outcomes for e in scored], [e.conditions for e in scored])
    best = scored[i] if i is not None else None
    return {
        "task_id": task.task_id, "campaign_file": task.campaign_file, "strategy": task.strategy,
        "seed": task.seed, "run_dir": str(run_dir), "status": run_phase(st, is_locked(run_dir)),
        "action": action, "experiments": len(done),
        "failed": sum(e.status == "failed" for e in done), "budget": st.budget,
        "experiments_to_target": to_target,
        "best_experiment": best.experiment_id if best else None,
        "best_utility": utilities(campaign, [e.outcomes for e in scored])[i] if best else None,
        "best_outcomes": {k: v.get("value") for k, v in best.outcomes.items()} if best else {},
        "best_conditions": dict(best.conditions) if best else {},
        "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
    }
