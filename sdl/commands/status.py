"""`sdl status DIR [--json]`: the state of a run (read-only; works while it is live).

JSON keys: state, experiments_completed, experiments_failed, budget, best, run_dir,
unfinished, stopped_reason.
"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show the state of a run directory")
    p.add_argument("run_dir")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def status(run_dir: str) -> dict:
    from sdl.record import Record
    from sdl.rundir import RECORD_NAME, is_locked, require_run_dir
    from sdl.schema.load import campaign_from_dict, parse_toml_bytes
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
    if st.started:
        campaign = campaign_from_dict(parse_toml_bytes(st.started["campaign_toml"].encode()))
        scored = [e for e in st.completed if e.status == "scored"]
        i = best_index(campaign, [e.outcomes for e in scored])
        if i is not None:
            e = scored[i]
            out["best"] = {"experiment_id": e.experiment_id, "conditions": e.conditions,
                           "outcomes": e.outcomes}
        out["campaign"] = campaign.name
    return out


def run(args: argparse.Namespace) -> int:
    s = status(args.run_dir)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"{s['run_dir']}: {s['state']}; {s['experiments_completed']}/{s['budget']} experiments "
          f"done, {s['experiments_failed']} failed")
    if s["best"]:
        b = s["best"]
        outs = ", ".join(f"{k} = {v.get('value'):.4g} ± {v.get('stderr') or 0:.2g}"
                         for k, v in b["outcomes"].items() if v.get("value") is not None)
        print(f"best {b['experiment_id']}: {outs}")
        print("  conditions: " + ", ".join(f"{k} = {v}" for k, v in b["conditions"].items()))
    if s["unfinished"]:
        print(f"unfinished: {', '.join(s['unfinished'])}")
    return 0
