"""Objective traces, pairwise Pareto fronts, target hit and ETA in physical units: plain
data computed from a folded run, shared by the report (matplotlib) and the live
dashboard (Plotly, JSON).

A target objective (t ± tol) is shown as the distance |y − t| in the outcome's unit and
is minimised; maximise/minimise objectives are shown as measured. "Best so far" is the
running best over the scored experiments that meet every outcome constraint, in the
order they finished (None until one does).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sdl.report.terms import axis_label, unit
from sdl.state import ExperimentState, RunState
from sdl.utility import feasible, target_reached


def _value(e: ExperimentState, name: str) -> float | None:
    o = e.outcomes.get(name)
    if not isinstance(o, dict) or not isinstance(o.get("value"), int | float):
        return None
    v = float(o["value"])
    return v if math.isfinite(v) else None


def _stderr(e: ExperimentState, name: str) -> float | None:
    o = e.outcomes.get(name)
    s = o.get("stderr") if isinstance(o, dict) else None
    return float(s) if isinstance(s, int | float) and math.isfinite(s) else None


def shown_value(objective: Any, v: float) -> float:
    """The plotted value: |v − target| for a target objective, else v."""
    return abs(v - objective.target) if objective.goal == "target" else v


def lower_is_better(objective: Any) -> bool:
    return objective.goal != "maximize"


@dataclass
class Trace:
    """One objective over the finished experiments.

    Attributes:
        name: outcome name; label: axis label with unit; unit: unit string.
        n: (M,) experiment number in completion order (1-based) of each point.
        ids: (M,) experiment ids; values: (M,) shown values; stderr: (M,) or None each.
        feasible: (M,) whether each point meets the outcome constraints.
        best: (M,) running best of the feasible `values` (None before the first one);
        failed_n: completion numbers of failures.
    """

    name: str
    label: str
    unit: str
    lower_is_better: bool
    n: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    stderr: list[float | None] = field(default_factory=list)
    feasible: list[bool] = field(default_factory=list)
    best: list[float | None] = field(default_factory=list)
    failed_n: list[int] = field(default_factory=list)
    tolerance: float | None = None  # target objectives: the band 0..tol is "on target"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def objective_traces(campaign: Any, completed: list[ExperimentState]) -> list[Trace]:
    """One `Trace` per campaign objective, in physical units."""
    traces = []
    for o in campaign.objectives:
        t = Trace(o.name, axis_label(o), unit(o.name), lower_is_better(o),
                  tolerance=o.tolerance if o.goal == "target" else None)
        best = None
        for i, e in enumerate(completed, start=1):
            if e.status == "failed":
                t.failed_n.append(i)
                continue
            v = _value(e, o.name)
            if v is None:
                continue
            s = shown_value(o, v)
            ok = feasible(campaign, e.outcomes)
            if ok and (best is None or (s < best if t.lower_is_better else s > best)):
                best = s
            t.n.append(i)
            t.ids.append(e.experiment_id)
            t.values.append(s)
            t.stderr.append(_stderr(e, o.name))
            t.feasible.append(ok)
            t.best.append(best)
        traces.append(t)
    return traces


def non_dominated(points: np.ndarray, minimize: list[bool]) -> np.ndarray:
    """(M,) bool mask of the non-dominated rows of `points` (M, D); row a dominates b
    when it is at least as good in every column and strictly better in one."""
    p = np.asarray(points, np.float64).reshape(len(points), -1) * np.where(minimize, 1.0, -1.0)
    mask = np.ones(len(p), dtype=bool)
    for i in range(len(p)):
        if np.any(np.all(p <= p[i], axis=1) & np.any(p < p[i], axis=1)):
            mask[i] = False
    return mask


@dataclass
class ParetoPair:
    """Scored experiments on two objectives (shown values) with the front marked."""

    x_name: str
    y_name: str
    x_label: str
    y_label: str
    x_lower_is_better: bool
    y_lower_is_better: bool
    ids: list[str] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    feasible: list[bool] = field(default_factory=list)
    front: list[bool] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pareto_pairs(campaign: Any, scored: list[ExperimentState]) -> list[ParetoPair]:
    """A `ParetoPair` for every pair of objectives (all C(n, 2) of them)."""
    out = []
    for a, b in itertools.combinations(campaign.objectives, 2):
        p = ParetoPair(a.name, b.name, axis_label(a), axis_label(b), lower_is_better(a),
                       lower_is_better(b))
        for e in scored:
            va, vb = _value(e, a.name), _value(e, b.name)
            if va is None or vb is None:
                continue
            p.ids.append(e.experiment_id)
            p.x.append(shown_value(a, va))
            p.y.append(shown_value(b, vb))
            p.feasible.append(feasible(campaign, e.outcomes))
        front = np.zeros(len(p.ids), dtype=bool)
        feas = np.array(p.feasible, dtype=bool)
        if feas.any():
            pts = np.column_stack([p.x, p.y])[feas]
            front[feas] = non_dominated(pts, [p.x_lower_is_better, p.y_lower_is_better])
        p.front = front.tolist()
        out.append(p)
    return out


def first_target_hit(campaign: Any, completed: list[ExperimentState]) -> ExperimentState | None:
    """The first experiment (in completion order) that met every target within its
    tolerance and every constraint; None when none did or there is no target."""
    for e in completed:
        if e.status == "scored" and target_reached(campaign, e.outcomes):
            return e
    return None


@dataclass(frozen=True)
class Eta:
    """Progress of a run: `seconds_per_experiment` (mean over the active time), the
    experiments left and the estimated seconds to finish (None when unknown)."""

    done: int
    budget: int
    seconds_per_experiment: float | None
    seconds_left: float | None


def eta(state: RunState, active_seconds: float, hours: float | None = None) -> Eta:
    """ETA from the budget and the mean cycle time; capped by the time budget `hours`."""
    done, budget = len(state.completed), state.budget
    if done == 0 or active_seconds <= 0:
        return Eta(done, budget, None, None)
    per = active_seconds / done
    left = max(0, budget - done) * per
    if hours is not None:
        left = min(left, max(0.0, hours * 3600 - active_seconds))
    return Eta(done, budget, per, left)


def fmt_seconds(s: float | None) -> str:
    """'42 s', '3 min 05 s', '2 h 07 min'; '?' when unknown."""
    if s is None or not math.isfinite(s):
        return "?"
    s = max(0.0, s)
    if s < 60:
        return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"
