"""CLI progress: a line while the optimiser thinks, time per experiment and an ETA."""

from __future__ import annotations

import re

from sdl.cli import main
from tests.sdl.serve.helpers import sobol_campaign


def test_run_prints_thinking_lines_time_per_experiment_and_eta(tmp_path, capsys):
    assert main(["run", str(sobol_campaign(tmp_path, 3)), "--out", str(tmp_path / "r"),
                 "--no-report"]) == 0
    out = capsys.readouterr().out.splitlines()
    thinking = [ln for ln in out if ln.startswith("optimiser thinking:")]
    assert thinking == [f"optimiser thinking: choosing e000{i} ({i - 1} results so far)..."
                        for i in (1, 2, 3)]
    lines = [ln for ln in out if re.match(r"\[\d/3\] e000\d ", ln)]
    assert len(lines) == 3
    for ln in lines:
        m = re.search(r"\(took ([\d.]+ (s|min \d\d s)); ([\d.]+ s|\d+ min \d\d s) per "
                      r"experiment, ETA ([^)]+)\)$", ln)
        assert m, ln
    assert lines[-1].endswith("ETA 0.0 s)")  # budget used up: nothing left


def test_timing_suffix_uses_recorded_times(tmp_path):
    from datetime import UTC, datetime, timedelta

    from sdl.console import timing_suffix
    from sdl.state import ExperimentState, RunState

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    st = RunState(started={"budget_experiments": 5})
    st.session_starts = [t0.isoformat()]
    e = ExperimentState("e0001", 0, 0, {}, {}, 2, status="scored",
                        dispatched_at=(t0 + timedelta(seconds=2)).isoformat())
    st.experiments["e0001"] = e
    st.terminal_order.append("e0001")
    st.last_ts = (t0 + timedelta(seconds=12)).isoformat()

    class S:  # the two attributes timing_suffix reads
        state = st

        class campaign:  # noqa: N801
            class budget:  # noqa: N801
                hours = None

    text = timing_suffix(S, "e0001")
    assert text.startswith(" (took 10 s; ")  # dispatched -> finished
    assert "per experiment, ETA" in text
