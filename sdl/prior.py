"""Data in: earlier experiments that seed a new campaign (`sdl run CAMPAIGN --prior SRC`).

A source is a CSV in the `sdl export` format, or a run directory (read through
`sdl.export`, read-only). Columns used (others are ignored):
  every campaign parameter          required, within the campaign's range / values
  status                            optional: "scored" (default) or "failed"; rows still
                                    in flight (proposed, dispatched, measured) are skipped
  <outcome>, <outcome>_stderr       optional numbers (stderr 0 when absent)
  failure_kind                      optional, for failed rows
  experiment_id                     optional, kept as the prior row's `source_id`
A row that cannot be used is skipped with one line saying where and why; a source with
no usable row is an error.

The rows go into the record as one `prior` event (source, its sha256, the rows, the
skipped lines) before the first proposal; `prior_observations` turns them into optimiser
history. They are not experiments of this run: they never count against the budget,
and replay includes them exactly as `ask` did.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdl.errors import SdlError

IN_FLIGHT = ("proposed", "dispatched", "measured")


class PriorError(SdlError):
    """A prior-data source is missing, unreadable or has no usable row."""


@dataclass
class PriorData:
    """Validated rows of one source.

    Attributes:
        source: the path as given; kind: "csv" or "run".
        sha256: sha256 (hex) of the source's bytes (for a run: of its export CSV).
        rows: [{"source_id", "conditions", "outcomes": {name: {"value", "stderr"}},
               "failed", "failure_kind"}].
        skipped: one line per unusable row ("line 7: ...").
    """

    source: str
    kind: str
    sha256: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"source": self.source, "source_kind": self.kind, "source_sha256": self.sha256,
                "rows": self.rows, "skipped": self.skipped}


def read_prior(source: str | Path, campaign: Any) -> PriorData:
    """Read and validate `source` (CSV file or run directory) against `campaign`."""
    path = Path(source)
    if path.is_dir():
        from sdl.export import export
        from sdl.rundir import is_run_dir

        if not is_run_dir(path):
            raise PriorError(f"--prior {source}: a folder but not a run directory "
                             "(no record.sqlite); give a run directory or an export CSV")
        data = export(path, "csv")
        kind = "run"
    elif path.is_file():
        try:
            data = path.read_bytes()
        except OSError as e:
            raise PriorError(f"--prior {source}: cannot read ({e.strerror or e})") from None
        kind = "csv"
    else:
        raise PriorError(f"--prior {source}: no such file or run directory")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PriorError(f"--prior {source}: not UTF-8 text (expected an `sdl export` CSV)") \
            from None
    out = PriorData(str(source), kind, hashlib.sha256(data).hexdigest())
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [p.name for p in campaign.parameters if p.name not in header]
    if missing:
        raise PriorError(f"--prior {source}: missing column(s) {', '.join(missing)}; the "
                         f"columns must be those of `sdl export` (parameters: "
                         f"{', '.join(p.name for p in campaign.parameters)})")
    for line_no, row in enumerate(reader, start=2):
        try:
            parsed = _row(row, campaign)
        except ValueError as e:
            out.skipped.append(f"line {line_no}: {e}; row skipped")
            continue
        if parsed is not None:
            out.rows.append(parsed)
        else:
            out.skipped.append(f"line {line_no}: status {row.get('status')!r} is not finished "
                               "(scored or failed); row skipped")
    if not out.rows:
        detail = f" ({out.skipped[0]})" if out.skipped else " (no data rows)"
        raise PriorError(f"--prior {source}: no usable row{detail}")
    return out


def _row(row: dict[str, Any], campaign: Any) -> dict[str, Any] | None:
    status = (row.get("status") or "scored").strip()
    if status in IN_FLIGHT:
        return None
    if status not in ("scored", "failed"):
        raise ValueError(f"status {status!r} is not one of scored, failed")
    conditions: dict[str, Any] = {}
    for p in campaign.parameters:
        cell = (row.get(p.name) or "").strip()
        if p.type == "categorical":
            if cell not in p.values:
                raise ValueError(f"{p.name} = {cell!r} is not one of {', '.join(p.values)}")
            conditions[p.name] = cell
            continue
        v = _number(cell, p.name)
        if v is None:
            raise ValueError(f"{p.name} is empty")
        if not p.low <= v <= p.high:
            raise ValueError(f"{p.name} = {v:g} is outside the campaign's range "
                             f"[{p.low:g}, {p.high:g}]")
        if p.type == "integer":
            if v != int(v):
                raise ValueError(f"{p.name} = {v:g} is not a whole number")
            v = int(v)
        conditions[p.name] = v
    failed = status == "failed"
    outcomes: dict[str, dict[str, float]] = {}
    if not failed:
        for name in campaign.outcome_names:
            v = _number((row.get(name) or "").strip(), name)
            if v is None:
                continue
            se = _number((row.get(f"{name}_stderr") or "").strip(), f"{name}_stderr")
            if se is not None and se < 0:
                raise ValueError(f"{name}_stderr = {se:g} is negative")
            outcomes[name] = {"value": v, "stderr": 0.0 if se is None else se}
        if not any(o.name in outcomes for o in campaign.objectives):
            raise ValueError("a scored row needs at least one objective value ("
                             + ", ".join(o.name for o in campaign.objectives) + ")")
    return {"source_id": (row.get("experiment_id") or "").strip() or None,
            "conditions": conditions, "outcomes": outcomes, "failed": failed,
            "failure_kind": ((row.get("failure_kind") or "").strip() or None) if failed else None}


def _number(cell: str, name: str) -> float | None:
    if cell == "":
        return None
    try:
        v = float(cell)
    except ValueError:
        raise ValueError(f"{name} = {cell!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} = {cell!r} is not a finite number")
    return v


def prior_observations(prior_events: list[dict[str, Any]], before_seq: int | None = None):
    """Optimiser history of the recorded prior rows (events with seq < `before_seq`).

    Args:
        prior_events: [{"seq": int, "rows": [...]}] as folded by `sdl.state`.
    """
    from surrogates.types import Observation

    obs = []
    for pe in prior_events:
        if before_seq is not None and pe["seq"] >= before_seq:
            continue
        for i, r in enumerate(pe["rows"], start=1):
            outcomes = {n: (float(o["value"]), float(o.get("stderr") or 0.0))
                        for n, o in r["outcomes"].items()}
            obs.append(Observation(experiment_id=f"prior{pe['seq']}:{r.get('source_id') or i}",
                                   conditions=dict(r["conditions"]), outcomes=outcomes,
                                   failed=bool(r["failed"]), failure_kind=r.get("failure_kind")))
    return obs
