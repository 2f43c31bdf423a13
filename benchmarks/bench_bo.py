"""`sdl bench bo`: sample efficiency and speed of the optimiser.

Two problems, each the campaign file's parameters and seed:

* **cdse-colour**: `campaigns/cdse_620nm.toml` reduced to its colour target
  (pl_peak_nm = 620 +/- 3 nm). Score of an experiment (ground truth, no noise):
  1 / (1 + ((pl - 620) / 3)^2); best achievable 1 (620 nm is reachable).
* **single-photon**: `campaigns/single_photon.toml` as is (minimise g2_zero subject to
  plqy >= 0.3 and 600 <= pl_peak_nm <= 630). Score: 1 - g2_zero when the true outcomes
  satisfy the constraints, else 0; best achievable from a 2^15-point Sobol sweep of
  the ground truth.

Ground truth: `simulator.SimulatedRig` is not importable yet in this checkout, so a
documented analytic stand-in (`_cdse_truth`, `_single_photon_truth` below) with the
structure of SIMULATOR.md is used: Arrhenius-like conversion sets the core size,
concentration gives more nuclei (smaller dots), the sizing curve gives the colour, the
focusing window gives the line width, a shell passivates (PLQY interior optimum), the
total dot volume sets eta_XX / eta_X (g2 at low power), excitation power raises g2,
hot concentrated runs clog and cold short runs do not nucleate (failures), and the
rig adds Gaussian measurement noise. Replace `truth_fn` by a SimulatedRig adaptor when
the simulator lands (RawMeasurement.truth carries the noise-free outcomes).

Methods (same seed -> same noise sequence and, for the model-based ones, the same
initial design: the campaign's first `initial` scrambled Sobol points):
    sobol, random     `surrogates.propose` with kind sobol / random.
    bo                `surrogates.propose` (qLogNEI, GP on the outcomes, smooth
                      set-point desirability, outcome constraints, failure classifier).
    ax                Ax 1.3 Client API, the same initial points attached as trials;
                      colour: maximise the measured desirability -log(1 + ((pl-620)/3)^2);
                      single photon: minimise g2_zero with Ax outcome constraints;
                      failures marked failed.
    baybe             BayBE 0.15 BotorchRecommender on the same scalar as Ax for colour;
                      single photon: -g2_zero minus 1 when a measured constraint is
                      violated (BayBE has no outcome constraints); log-scaled
                      parameters given as log10 values; a failure is recorded with the
                      worst value seen so far (BayBE has no failure handling).

Metric: experiments_to_target = 1-based index of the first experiment whose true score
is >= 95 % of the best achievable score; budget + 1 when never reached (censored, so
acceleration factors computed with censored Sobol runs are lower bounds).
acceleration_factor_vs_sobol = median(sobol) / median(method).

Timing: one `propose` (fit + acquisition, default settings, q = 1, d = 5, one
objective) at n = 100 and growing to 500 observations.

Usage: sdl bench bo [--json] [--quick] [--seeds N] [--budget N]
                    [--methods sobol,random,bo,ax,baybe] [--problems cdse-colour,...]
Full run (default): 10 seeds, budget 40, all methods, timing at n = 100, 200, 300, 500.
--quick: 3 seeds, budget 20, timing at n = 100 and 200.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("sobol", "random", "bo", "ax", "baybe")


# ----------------------------------------------------------------------------- stand-in
def _core_diameter_nm(T, tau, se_to_cd, ligand, conc):
    """Core diameter (nm) of the analytic stand-in: conversion, nucleation, passivation."""
    uT = (T - 220.0) / 80.0
    k = np.exp(3.0 * (uT - 0.5))  # Arrhenius-like precursor conversion rate, 1/min
    g = 1.0 - np.exp(-k * tau / 60.0)  # conversion after tau seconds
    size = 2.0 + 4.5 * np.cbrt(g) * (1.0 + 0.3 * np.log(ligand / 3.0)) * (conc / 20.0) ** -0.15
    return size * (1.0 + 0.08 * (se_to_cd - 2.0)), g


def _pl_peak_nm(D):
    """Sizing curve of the stand-in (close to Yu et al. 2003 for 3-6 nm CdSe) + 8 nm Stokes."""
    E = 1.74 + 1.0 / (0.1 * D**2 + 0.35 * D)
    return 1239.84 / E + 8.0


def _cdse_truth(c: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    T, tau = c["temperature_c"], c["residence_time_s"]
    D, g = _core_diameter_nm(T, tau, c["se_to_cd"], c["ligand_to_metal"], c["metal_conc_mm"])
    sigma = 0.05 + 0.32 * (g - 0.7) ** 2 + 0.015 * np.abs(c["se_to_cd"] - 2.0)
    plqy = 0.75 * np.exp(-np.log(c["ligand_to_metal"] / 4.0) ** 2 / 0.5) * (1 - 0.5 * ((T - 220) / 80 - 0.6) ** 2)
    out = {"pl_peak_nm": _pl_peak_nm(D), "fwhm_nm": 20.0 + 250.0 * sigma, "plqy": plqy}
    fail = (c["metal_conc_mm"] > 35.0) & (T > 280.0)  # clog: hot and concentrated
    return out, fail


def _single_photon_truth(c: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    T, tau, h, N = c["temperature_c"], c["residence_time_s"], c["shell_monolayers"], c["excitation_mean"]
    D, g = _core_diameter_nm(T, tau, 2.0, 4.0, 20.0)
    shell_nm = 0.3 * h
    volume_ratio = ((D / 2 + shell_nm) / (4.6 / 2 + 0.7)) ** 3  # relative to a 4.6 nm + 0.7 nm dot
    xx_over_x = np.clip(0.08 * volume_ratio**1.5, 0.0, 1.0)  # Auger: bigger dots, brighter XX
    plqy = (0.25 + 0.6 * (1 - np.exp(-h / 1.2)) - 0.06 * np.clip(h - 3.0, 0, None) ** 1.5) * (0.6 + 0.4 * g)
    plqy = np.clip(plqy, 0.01, 0.95)
    g2_dot = xx_over_x * (1.0 + 0.8 * N)  # power raises g2 (more biexcitons)
    rho = (N * plqy) / (N * plqy + 0.004)  # signal / (signal + background)
    g2 = 1.0 - rho**2 * (1.0 - np.clip(g2_dot, 0, 1))
    pl = _pl_peak_nm(D) + 6.0 * (1 - np.exp(-h / 1.5))
    fail = (g < 0.08)  # no nucleation: flat spectra, unviable
    return {"g2_zero": g2, "plqy": plqy, "pl_peak_nm": pl}, fail


NOISE_SD = {"pl_peak_nm": 0.4, "fwhm_nm": 0.8, "plqy": 0.015, "g2_zero": 0.015}


# ----------------------------------------------------------------------------- problems
@dataclass
class BenchProblem:
    name: str
    campaign: Any
    truth_fn: Callable[[dict[str, np.ndarray]], tuple[dict[str, np.ndarray], np.ndarray]]
    score_fn: Callable[[dict[str, np.ndarray]], np.ndarray]
    best: float = 1.0

    def truth(self, cond: dict[str, Any]) -> tuple[dict[str, float], bool]:
        arr = {k: np.asarray([float(v)]) for k, v in cond.items()}
        out, fail = self.truth_fn(arr)
        return {k: float(v[0]) for k, v in out.items()}, bool(fail[0])

    def score(self, truth: dict[str, float]) -> float:
        return float(self.score_fn({k: np.asarray([v]) for k, v in truth.items()})[0])


def _load(name: str):
    from sdl.schema.load import load_campaign

    return load_campaign(ROOT / "campaigns" / name)


def _colour_score(o):
    return 1.0 / (1.0 + ((o["pl_peak_nm"] - 620.0) / 3.0) ** 2)


def _sp_score(o):
    ok = (o["plqy"] >= 0.3) & (o["pl_peak_nm"] >= 600) & (o["pl_peak_nm"] <= 630)
    return np.where(ok, 1.0 - o["g2_zero"], 0.0)


def make_problems(names: list[str]) -> list[BenchProblem]:
    from surrogates.encoding import Encoder

    out = []
    for name in names:
        if name == "cdse-colour":
            base = _load("cdse_620nm.toml")
            data = base.model_dump()
            data["objectives"] = [{"name": "pl_peak_nm", "target": 620.0, "tolerance": 3.0}]
            camp = type(base).model_validate(data)
            p = BenchProblem(name, camp, _cdse_truth, _colour_score)
        elif name == "single-photon":
            p = BenchProblem(name, _load("single_photon.toml"), _single_photon_truth, _sp_score)
        else:
            raise SystemExit(f"unknown problem {name!r}; allowed: cdse-colour, single-photon")
        # best achievable score from a dense Sobol sweep of the ground truth
        from scipy.stats import qmc

        enc = Encoder.from_campaign(p.campaign)
        u = qmc.Sobol(len(enc.params), scramble=True, seed=0).random(1 << 15)
        cols = {}
        for j, c in enumerate(enc.params):
            if c.log:
                cols[c.name] = np.exp(np.log(c.low) + u[:, j] * (np.log(c.high) - np.log(c.low)))
            else:
                cols[c.name] = c.low + u[:, j] * (c.high - c.low)
        truth, fail = p.truth_fn(cols)
        s = np.where(fail, 0.0, p.score_fn(truth))
        p.best = max(float(s.max()), 1e-9)
        out.append(p)
    return out


# ----------------------------------------------------------------------------- the rig
class NoisyRig:
    """Measured outcomes = truth + Gaussian noise; same noise stream for every method."""

    def __init__(self, problem: BenchProblem, seed: int):
        self.problem = problem
        self.rng = np.random.default_rng([seed, 99])
        self.equipment = np.random.default_rng([seed, 98])

    def run(self, cond: dict[str, Any]) -> tuple[dict[str, tuple[float, float]], bool, float]:
        truth, fail = self.problem.truth(cond)
        noise = self.rng.standard_normal(len(NOISE_SD))
        if self.equipment.random() < 0.02:  # random equipment failure
            fail = True
        score = 0.0 if fail else self.problem.score(truth)
        if fail:
            return {}, True, score
        meas = {}
        for (k, sd), z in zip(NOISE_SD.items(), noise, strict=True):
            if k in truth:
                meas[k] = (truth[k] + sd * float(z), sd)
        return meas, False, score


def _desirability(pl: float) -> float:
    return -math.log1p(((pl - 620.0) / 3.0) ** 2)


# ----------------------------------------------------------------------------- methods
def run_surrogates(problem, method, seed, budget, settings) -> tuple[list[float], list[float]]:
    from surrogates import propose
    from surrogates.types import Observation

    data = problem.campaign.model_dump()
    data["campaign"]["seed"] = seed
    data["strategy"]["kind"] = "bo" if method == "bo" else method
    data["strategy"]["proximal"] = {}  # sample efficiency only: no slow-knob penalty
    camp = type(problem.campaign).model_validate(data)
    rig = NoisyRig(problem, seed)
    hist, scores, secs = [], [], []
    k = 0
    while len(hist) < budget:
        t = time.perf_counter()
        props, info = propose(camp, hist, k, settings=settings)
        if info.strategy.startswith("bo:q"):
            secs.append(time.perf_counter() - t)
        for p in props:
            meas, fail, score = rig.run(p.conditions)
            hist.append(Observation(f"e{len(hist)}", p.conditions, meas, failed=fail))
            scores.append(score)
        k += 1
    return scores, secs


def _initial(problem, seed):
    from surrogates.design import sobol_points
    from surrogates.encoding import Encoder

    enc = Encoder.from_campaign(problem.campaign)
    return sobol_points(enc, seed, 0, problem.campaign.strategy.initial)


def run_ax(problem, seed, budget) -> tuple[list[float], list[float]]:
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
    if problem.name == "cdse-colour":
        client.configure_optimization(objective="desirability")
    else:
        client.configure_optimization(objective="-g2_zero", outcome_constraints=[
            "plqy >= 0.3", "pl_peak_nm >= 600", "pl_peak_nm <= 630"])
    n0 = problem.campaign.strategy.initial
    client.configure_generation_strategy(initialization_budget=n0,
                                         use_existing_trials_for_initialization=True)
    rig = NoisyRig(problem, seed)
    scores, secs = [], []

    def finish(idx, cond):
        meas, fail, score = rig.run(cond)
        scores.append(score)
        if fail:
            client.mark_trial_failed(idx)
        elif problem.name == "cdse-colour":
            client.complete_trial(idx, raw_data={"desirability": _desirability(meas["pl_peak_nm"][0])})
        else:
            client.complete_trial(idx, raw_data={k: meas[k] for k in ("g2_zero", "plqy", "pl_peak_nm")})

    for cond in _initial(problem, seed):
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
    rig = NoisyRig(problem, seed)
    scores, secs, seen = [], [], []

    def to_campaign(row):
        return {p.name: 10.0 ** float(row[p.name]) if p.name in logp else float(row[p.name]) for p in params}

    def to_baybe(cond):
        return {n: math.log10(v) if n in logp else float(v) for n, v in cond.items()}

    def finish(cond):
        meas, fail, score = rig.run(cond)
        scores.append(score)
        if fail:
            y = min(seen) if seen else -10.0
        elif problem.name == "cdse-colour":
            y = _desirability(meas["pl_peak_nm"][0])
        else:
            ok = meas["plqy"][0] >= 0.3 and 600 <= meas["pl_peak_nm"][0] <= 630
            y = -meas["g2_zero"][0] - (0.0 if ok else 1.0)
        seen.append(y)
        row = to_baybe(cond)
        row["y"] = y
        campaign.add_measurements(pd.DataFrame([row]))

    for cond in _initial(problem, seed):
        finish(cond)
    while len(scores) < budget:
        t = time.perf_counter()
        rec = campaign.recommend(batch_size=1)
        secs.append(time.perf_counter() - t)
        finish(to_campaign(rec.iloc[0]))
    return scores, secs


# ----------------------------------------------------------------------------- metrics
def experiments_to_target(scores: list[float], best: float, budget: int) -> int:
    for i, s in enumerate(scores[:budget]):
        if s >= 0.95 * best:
            return i + 1
    return budget + 1


def _summary(values: list[int]) -> dict[str, Any]:
    q = np.percentile(values, [25, 50, 75])
    return {"median": float(q[1]), "iqr": [float(q[0]), float(q[2])], "values": values}


def timing(ns: list[int]) -> list[dict[str, float]]:
    """Fit + propose seconds for one objective, d = 5, q = 1 at n observations."""
    from sdl.schema.campaign import Campaign
    from surrogates import propose
    from surrogates.types import Observation

    camp = Campaign.model_validate({
        "campaign": {"name": "timing", "seed": 1},
        "budget": {"experiments": 1000},
        "parameters": [
            {"name": "temperature_c", "low": 220, "high": 300},
            {"name": "residence_time_s", "low": 10, "high": 600, "scale": "log"},
            {"name": "se_to_cd", "low": 0.5, "high": 4.0},
            {"name": "ligand_to_metal", "low": 1.0, "high": 10.0, "scale": "log"},
            {"name": "metal_conc_mm", "low": 5, "high": 50},
        ],
        "objectives": [{"name": "pl_peak_nm", "target": 620, "tolerance": 3}],
        "strategy": {"kind": "bo", "initial": 8},
    })
    rng = np.random.default_rng(0)
    out = []
    for n in ns:
        hist = []
        for i in range(n):
            c = {"temperature_c": 220 + 80 * rng.random(), "residence_time_s": 10 * 60 ** rng.random(),
                 "se_to_cd": 0.5 + 3.5 * rng.random(), "ligand_to_metal": 10 ** rng.random(),
                 "metal_conc_mm": 5 + 45 * rng.random()}
            truth, _ = _cdse_truth({k: np.asarray([v]) for k, v in c.items()})
            hist.append(Observation(f"e{i}", c, {"pl_peak_nm": (float(truth["pl_peak_nm"][0]) + 0.4 * rng.standard_normal(), 0.4)}))
        t = time.perf_counter()
        _, info = propose(camp, hist, n)
        out.append({"n": n, "d": 5, "q": 1, "fit_seconds": round(info.fit_seconds, 3),
                    "propose_seconds": round(time.perf_counter() - t, 3)})
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="sdl bench bo", description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--quick", action="store_true", help="3 seeds, budget 20, short timing")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--problems", default="cdse-colour,single-photon")
    ap.add_argument("--timing", default=None, help="comma-separated n for the timing section ('' to skip)")
    args = ap.parse_args(argv)
    seeds = args.seeds or (3 if args.quick else 10)
    budget = args.budget or (20 if args.quick else 40)
    methods = [m for m in args.methods.split(",") if m]
    bad = sorted(set(methods) - set(METHODS))
    if bad:
        print(f"unknown methods {bad}; allowed: {', '.join(METHODS)}", file=sys.stderr)
        return 2
    tn = args.timing if args.timing is not None else ("100,200" if args.quick else "100,200,300,500")
    warnings.filterwarnings("ignore")
    from surrogates.settings import DEFAULT

    report: dict[str, Any] = {
        "ground_truth": "analytic stand-in (simulator.SimulatedRig not importable yet)",
        "seeds": seeds, "budget": budget, "methods": methods, "settings": DEFAULT.__dict__,
        "campaigns": {},
    }
    for problem in make_problems([p for p in args.problems.split(",") if p]):
        res: dict[str, Any] = {"best_score": problem.best}
        for method in methods:
            ett, secs = [], []
            for s in range(seeds):
                seed = 1000 + s
                if method in ("sobol", "random", "bo"):
                    scores, sec = run_surrogates(problem, method, seed, budget, DEFAULT)
                elif method == "ax":
                    scores, sec = run_ax(problem, seed, budget)
                else:
                    scores, sec = run_baybe(problem, seed, budget)
                ett.append(experiments_to_target(scores, problem.best, budget))
                secs.extend(sec)
                if not args.json:
                    print(f"{problem.name:14s} {method:7s} seed {seed}: {ett[-1]:3d} experiments", file=sys.stderr)
            entry = {"experiments_to_target": _summary(ett),
                     "reached": sum(v <= budget for v in ett) / len(ett),
                     "seconds_per_iteration": round(statistics.fmean(secs), 3) if secs else 0.0}
            res[method] = entry
        if "sobol" in res:
            for m in methods:
                res[m]["acceleration_factor_vs_sobol"] = round(
                    res["sobol"]["experiments_to_target"]["median"] / res[m]["experiments_to_target"]["median"], 2)
        report["campaigns"][problem.name] = res
    report["timing"] = timing([int(x) for x in tn.split(",") if x]) if tn else []
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, res in report["campaigns"].items():
            print(f"{name} (best score {res['best_score']:.3f}; budget {budget}, {seeds} seeds)")
            for m in methods:
                e = res[m]
                q = e["experiments_to_target"]
                print(f"  {m:7s} median {q['median']:5.1f}  IQR {q['iqr'][0]:.1f}-{q['iqr'][1]:.1f}  "
                      f"reached {e['reached']:.0%}  accel {e.get('acceleration_factor_vs_sobol', float('nan')):.2f}  "
                      f"{e['seconds_per_iteration']:.2f} s/iter")
        for t in report["timing"]:
            print(f"timing n={t['n']} d=5 q=1: fit {t['fit_seconds']:.2f} s, propose {t['propose_seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
