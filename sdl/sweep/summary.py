"""The summary of a sweep: one row per task (see `sdl.sweep.task.SUMMARY_FIELDS`), as CSV
(nested values as JSON text) and JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sdl.sweep.task import SUMMARY_FIELDS


def write_summary(rows: list[dict[str, Any]], out_dir: Path, meta: dict[str, Any]) -> tuple[Path, Path]:
    """Write `summary.csv` and `summary.json` in `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out_dir / "summary.csv", out_dir / "summary.json"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: json.dumps(v, sort_keys=True) if isinstance(v, dict) else v
                        for k, v in r.items()})
    json_path.write_text(json.dumps({**meta, "tasks": rows}, indent=2) + "\n", encoding="utf-8")
    return csv_path, json_path


def by_strategy(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per (campaign, strategy): runs, median experiments to target (censored at budget + 1
    when never reached), fraction reached, median best utility."""
    import statistics

    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(f"{Path(r['campaign_file']).stem}/{r['strategy']}", []).append(r)
    out = {}
    for key, rs in groups.items():
        ett = [r["experiments_to_target"] or r["budget"] + 1 for r in rs]
        util = [r["best_utility"] for r in rs if r["best_utility"] is not None]
        out[key] = {"runs": len(rs),
                    "median_experiments_to_target": statistics.median(ett),
                    "reached": sum(r["experiments_to_target"] is not None for r in rs) / len(rs),
                    "median_best_utility": statistics.median(util) if util else None}
    return out
