"""The peer optimisers of `sdl bench bo` (Ax 1.3 Client API, BayBE 0.15), driven on the same
`BenchRig`, initial design and scalarisation as described in `benchmarks.bench_bo`'s
docstring. Imported only when a peer method or the Ax timing runs (`bench` extra)."""

from __future__ import annotations

import math
import time
from typing import Any

from benchmarks.bench_bo import SP_CONSTRAINTS, SP_OUTCOMES, BenchProblem, BenchRig


def desirability(pl: float) -> float:
    """The colour scalar the peers maximise: -log(1 + ((pl - 620) / 3)^2), pl in nm."""
    return -math.log1p(((pl - 620.0) / 3.0) ** 2)


def initial_design(problem: BenchProblem, seed: int) -> list[dict[str, Any]]:
    """The campaign's first `initial` scrambled Sobol points (the same as `bo` starts from)."""
    from surrogates.design import sobol_points
    from surrogates.encoding import Encoder

    enc = Encoder.from_campaign(problem.campaign)
    return sobol_points(enc, seed, 0, problem.campaign.strategy.initial)


def _ax_client(problem: BenchProblem, seed: int) -> Any:
    """Ax 1.3 Client for the problem: colour -> maximise the measured desirability;
    single photon -> minimise g2_zero with outcome constraints; the initial design is the
    trials attached before the first `get_next_trials` (every later trial is Ax's BO)."""
    import logging

    from ax.api.client import Client
    from ax.api.configs import RangeParameterConfig

    client = Client(random_seed=seed)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("ax"):
            logging.getLogger(name).setLevel(logging.ERROR)
    client.configure_experiment(parameters=[
        RangeParameterConfig(name=p.name, parameter_type="float", bounds=(p.low, p.high),
                             scaling="log" if p.scale == "log" else "linear")
        for p in problem.campaign.parameters
    ])
    if problem.name == "single-photon":
        client.configure_optimization(objective="-g2_zero", outcome_constraints=[
            "plqy >= 0.3", "pl_peak_nm >= 600", "pl_peak_nm <= 630", "count_rate_kcps >= 100"])
    else:
        client.configure_optimization(objective="desirability")
    # The initial design is attached as trials before the first get_next_trials; with a
    # positive initialization_budget Ax 1.3 would still draw one more Sobol trial first.
    client.configure_generation_strategy(initialization_budget=0,
                                         use_existing_trials_for_initialization=True)
    return client


def run_ax(problem, seed, budget) -> tuple[list[float], list[float]]:
    client = _ax_client(problem, seed)
    rig = BenchRig(problem, seed)
    scores, secs = [], []

    def finish(idx, cond):
        r = rig.run(cond)
        scores.append(r.score)
        meas = r.outcomes
        if problem.name == "cdse-colour" and "pl_peak_nm" in meas:
            client.complete_trial(idx, raw_data={"desirability": desirability(meas["pl_peak_nm"][0])})
        elif problem.name != "cdse-colour" and all(k in meas for k in SP_OUTCOMES):
            client.complete_trial(idx, raw_data={k: meas[k] for k in SP_OUTCOMES})
        else:
            client.mark_trial_failed(idx)

    for cond in initial_design(problem, seed):
        finish(client.attach_trial(parameters={k: float(v) for k, v in cond.items()}), dict(cond))
    while len(scores) < budget:
        t = time.perf_counter()
        trials = client.get_next_trials(max_trials=1)
        secs.append(time.perf_counter() - t)
        for idx, params in trials.items():
            finish(idx, dict(params))
    return scores, secs


def run_baybe(problem, seed, budget) -> tuple[list[float], list[float]]:
    import pandas as pd
    from baybe import Campaign
    from baybe.objectives import SingleTargetObjective
    from baybe.parameters import NumericalContinuousParameter
    from baybe.recommenders import BotorchRecommender
    from baybe.searchspace import SearchSpace
    from baybe.targets import NumericalTarget
    from baybe.utils.random import set_random_seed

    set_random_seed(seed)
    params = problem.campaign.parameters
    logp = {p.name for p in params if p.scale == "log"}
    space = SearchSpace.from_product([
        NumericalContinuousParameter(p.name, bounds=(math.log10(p.low), math.log10(p.high))
                                     if p.name in logp else (p.low, p.high))
        for p in params
    ])
    campaign = Campaign(space, SingleTargetObjective(NumericalTarget(name="y")),
                        BotorchRecommender())
    rig = BenchRig(problem, seed)
    scores, secs, seen = [], [], []

    def to_campaign(row):
        return {p.name: 10.0 ** float(row[p.name]) if p.name in logp else float(row[p.name]) for p in params}

    def to_baybe(cond):
        return {n: math.log10(v) if n in logp else float(v) for n, v in cond.items()}

    def finish(cond):
        r = rig.run(cond)
        scores.append(r.score)
        meas = r.outcomes
        need = ("pl_peak_nm",) if problem.name == "cdse-colour" else SP_OUTCOMES
        if not all(k in meas for k in need):
            y = min(seen) if seen else -10.0
        elif problem.name == "cdse-colour":
            y = desirability(meas["pl_peak_nm"][0])
        else:
            ok = all(lo <= meas[n][0] <= hi for n, lo, hi in SP_CONSTRAINTS)
            y = -meas["g2_zero"][0] - (0.0 if ok else 1.0)
        seen.append(y)
        row = to_baybe(cond)
        row["y"] = y
        campaign.add_measurements(pd.DataFrame([row]))

    for cond in initial_design(problem, seed):
        finish(cond)
    while len(scores) < budget:
        t = time.perf_counter()
        rec = campaign.recommend(batch_size=1)
        secs.append(time.perf_counter() - t)
        finish(to_campaign(rec.iloc[0]))
    return scores, secs


def _ax_propose_seconds(problem: BenchProblem, hist: list[Any]) -> float:
    """Seconds of one Ax `get_next_trials(1)` (fit + acquisition) on the same data."""
    multi = problem.name == "timing-3"
    client = _ax_client(problem, seed=1)
    if multi:
        client.configure_optimization(objective="desirability, -fwhm_nm, plqy")
    for o in hist:
        idx = client.attach_trial(parameters={k: float(v) for k, v in o.conditions.items()})
        if o.failed:
            client.mark_trial_failed(idx)
        else:
            data = {"desirability": desirability(o.outcomes["pl_peak_nm"][0])}
            if multi:
                data.update({k: o.outcomes[k] for k in ("fwhm_nm", "plqy")})
            client.complete_trial(idx, raw_data=data)
    t = time.perf_counter()
    client.get_next_trials(max_trials=1)
    return time.perf_counter() - t
