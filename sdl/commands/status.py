"""`sdl status DIR [--json]`: the state of a run (read-only; works while it is live).

JSON keys: state, experiments_completed, experiments_failed, budget, best, run_dir,
unfinished, stopped_reason, driver (`sdl.provenance`), markers ({marker: {"count",
"meaning"}} for outcomes the analysis could not give), next (what to do next, or null).
"""

from __future__ import annotations

import argparse

from sdl.commands import add_read_command, print_json


def register(sub: argparse._SubParsersAction) -> None:
    add_read_command(sub, "status", help="show the state of a run directory",
                     description="The state of a run (read-only; works while it is live): "
                     "progress, best experiment, what drives it, and what each outcome "
                     "marker seen means.",
                     target=("run_dir", "run directory (made by `sdl run` or the Python API)"),
                     json_help="machine-readable output (full precision)", run=run)


def status(run_dir: str) -> dict:
    from sdl.record import Record
    from sdl.rundir import RECORD_NAME, is_locked, require_run_dir
    from sdl.schema.load import campaign_from_toml
    from sdl.state import fold, run_phase
    from sdl.utility import best_index

    d = require_run_dir(run_dir)
    with Record(d / RECORD_NAME, readonly=True) as rec:
        st = fold(rec.events())
    out = {"run_dir": str(d), "state": run_phase(st, is_locked(d)),
           "experiments_completed": len(st.completed),
           "experiments_failed": sum(e.status == "failed" for e in st.completed),
           "budget": st.budget, "best": None,
           "unfinished": [e.experiment_id for e in st.unfinished],
           "stopped_reason": (st.stopped or {}).get("reason")}
    from sdl.provenance import describe, driver_of_started

    driver = driver_of_started(st.started)
    out["driver"] = driver
    out["markers"] = _markers(st)
    out["next"] = _next_step(out["state"], driver, str(d))
    if st.started:
        campaign = campaign_from_toml(st.started["campaign_toml"])
        scored = [e for e in st.completed if e.status == "scored"]
        i = best_index(campaign, [e.outcomes for e in scored], [e.conditions for e in scored])
        if i is not None:
            e = scored[i]
            out["best"] = {"experiment_id": e.experiment_id, "conditions": e.conditions,
                           "outcomes": e.outcomes}
        out["campaign"] = campaign.name
    out["driver_text"] = describe(driver)
    return out


def _markers(st) -> dict:
    from collections import Counter

    from sdl.analysis.markers import explain

    counts: Counter = Counter()
    for e in st.completed:
        for o in e.outcomes.values():
            if isinstance(o, dict) and o.get("no_outcome"):
                counts[str(o["no_outcome"])] += 1
    return {m: {"count": n, "meaning": explain(m)} for m, n in counts.most_common()}


def _next_step(phase: str, driver: dict, run_dir: str) -> str | None:
    if phase not in ("stopped", "crashed", "complete"):
        return None
    if driver.get("kind") == "external":
        how = f"from Python: Campaign.resume({run_dir!r})"
        return (f"continue {how}" if phase != "complete"
                else f"to run more experiments: Campaign.resume({run_dir!r}, budget=N)")
    if phase == "complete":
        return f"to run more experiments: sdl resume {run_dir} --budget N"
    return f"continue with: sdl resume {run_dir}"


def run(args: argparse.Namespace) -> int:
    from sdl.console import estimate_text, plural, sig4

    s = status(args.run_dir)
    if args.json:
        print_json(s)
        return 0
    print(f"{s['run_dir']}: {s['state']}; {s['experiments_completed']}/"
          f"{plural(s['budget'], 'experiment')} done, {s['experiments_failed']} failed")
    print(f"driven by: {s['driver_text']}")
    if s["best"]:
        b = s["best"]
        outs = ", ".join(f"{k} = {estimate_text(v)}"
                         for k, v in b["outcomes"].items() if v.get("value") is not None)
        print(f"best {b['experiment_id']}: {outs}")
        print("  conditions: " + ", ".join(f"{k} = {sig4(v)}" for k, v in b["conditions"].items()))
    if s["unfinished"]:
        print(f"unfinished: {', '.join(s['unfinished'])}")
    for marker, m in s["markers"].items():
        print(f"marker {marker} ({plural(m['count'], 'time')}): {m['meaning']}")
    if s["next"]:
        print(s["next"])
    return 0
