"""Data out: one row per experiment of a run, as CSV, Parquet or JSON (pandas/pyarrow).

Columns, in order (the same columns `sdl run --prior FILE.csv` reads back):
  experiment_id, k, status            status: scored | failed | proposed | dispatched | measured
  <parameter>...                      the optimiser's conditions, campaign units
  <outcome>, <outcome>_stderr ...     every campaign outcome (blank when not measured)
  <outcome>_no_outcome ...            only for outcomes some experiment could not score
  failure_kind, failure_reason, failure_detail
  attempts, proposed_at, dispatched_at, measured_at, finished_at   (UTC ISO-8601)
  raw_file, raw_sha256
Prior experiments seeded into the run (`--prior`) are not rows: they were not run here.
The record is read read-only.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from sdl.errors import SdlError

FORMATS = ("csv", "parquet", "json")
FAILURE_COLUMNS = ("failure_kind", "failure_reason", "failure_detail")
TIME_COLUMNS = ("attempts", "proposed_at", "dispatched_at", "measured_at", "finished_at")
FILE_COLUMNS = ("raw_file", "raw_sha256")


def read_run(run_dir: str | Path) -> tuple[Any, Any, dict[int, str]]:
    """(campaign, RunState, seq -> ts) of a run directory, read-only."""
    from sdl.record import Record
    from sdl.rundir import RECORD_NAME, require_run_dir
    from sdl.schema.load import campaign_from_toml
    from sdl.state import fold

    d = require_run_dir(run_dir)
    with Record(d / RECORD_NAME, readonly=True) as rec:
        events = list(rec.events())
    st = fold(events)
    if st.started is None:
        raise SdlError(f"{d}: the record has no campaign_started event yet; nothing to export")
    where = f"{d / RECORD_NAME} (campaign_started)"
    campaign = campaign_from_toml(st.started["campaign_toml"], where)
    return campaign, st, {ev.seq: ev.ts for ev in events}


def columns(campaign: Any, no_outcome_names: list[str]) -> list[str]:
    cols = ["experiment_id", "k", "status"] + [p.name for p in campaign.parameters]
    for o in campaign.outcome_names:
        cols += [o, f"{o}_stderr"]
    cols += [f"{o}_no_outcome" for o in no_outcome_names]
    return cols + list(FAILURE_COLUMNS) + list(TIME_COLUMNS) + list(FILE_COLUMNS)


def experiment_rows(run_dir: str | Path) -> tuple[list[str], list[dict[str, Any]]]:
    """(column names, one dict per experiment in proposal order)."""
    campaign, st, ts = read_run(run_dir)
    exps = sorted(st.experiments.values(), key=lambda e: e.proposed_seq)
    no_outcome = [o for o in campaign.outcome_names
                  if any(isinstance(e.outcomes.get(o), dict) and e.outcomes[o].get("no_outcome")
                         for e in exps)]
    cols = columns(campaign, no_outcome)
    rows = []
    for e in exps:
        r: dict[str, Any] = {c: None for c in cols}
        r.update(experiment_id=e.experiment_id, k=e.k, status=e.status)
        for p in campaign.parameters:
            r[p.name] = e.conditions.get(p.name)
        for o in campaign.outcome_names:
            d = e.outcomes.get(o)
            if isinstance(d, dict):
                r[o], r[f"{o}_stderr"] = _finite(d.get("value")), _finite(d.get("stderr"))
                if o in no_outcome:
                    r[f"{o}_no_outcome"] = d.get("no_outcome")
        f = e.failure or {}
        r.update(failure_kind=f.get("kind"), failure_reason=f.get("reason"),
                 failure_detail=f.get("detail") or None)
        r.update(attempts=e.attempts, proposed_at=ts.get(e.proposed_seq),
                 dispatched_at=e.dispatched_at, measured_at=e.measured_at,
                 finished_at=ts.get(e.terminal_seq) if e.terminal_seq else None,
                 raw_file=e.raw_file, raw_sha256=e.sha256)
        rows.append(r)
    return cols, rows


def dataframe(run_dir: str | Path):
    """The export as a pandas DataFrame (one row per experiment)."""
    pd = _pandas()
    cols, rows = experiment_rows(run_dir)
    return pd.DataFrame(rows, columns=cols)


def export(run_dir: str | Path, fmt: str = "csv", out: str | Path | None = None) -> bytes | None:
    """Write the export to `out`, or return it as bytes when `out` is None (csv/json)."""
    if fmt not in FORMATS:
        raise SdlError(f"--format {fmt!r} is not supported; allowed: {', '.join(FORMATS)}")
    df = dataframe(run_dir)
    if fmt == "parquet":
        if out is None:
            raise SdlError("--format parquet is binary: give --out FILE.parquet")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise SdlError("parquet export needs pyarrow: pip install 'qd-sdl[export]'") from None
        _write(out, lambda p: df.to_parquet(p, index=False))
        return None
    if fmt == "csv":
        text = df.to_csv(index=False, lineterminator="\n")
    else:
        buf = io.StringIO()
        df.to_json(buf, orient="records", indent=1, double_precision=15)
        text = buf.getvalue() + "\n"
    if out is None:
        return text.encode("utf-8")
    _write(out, lambda p: Path(p).write_text(text, encoding="utf-8"))
    return None


def _write(out: str | Path, write) -> None:
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write(out)
    except OSError as e:
        raise SdlError(f"cannot write {out}: {e.strerror or e}") from None


def _finite(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        raise SdlError("sdl export needs pandas: pip install 'qd-sdl[export]'") from None
    return pd
