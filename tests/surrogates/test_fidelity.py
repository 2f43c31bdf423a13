"""Acquisition time as a fidelity: proposals inside the declared range; the best screened
point is confirmed at full fidelity before anything else."""

from __future__ import annotations

from surrogates import propose
from surrogates.fidelity import confirmation_candidate
from surrogates.types import Observation
from tests.surrogates._campaigns import make_campaign

FID = {"parameter": "acquisition_s", "low": 2.0, "high": 30.0, "overhead_s": 60.0}


def _campaign():
    return make_campaign(objectives=[{"name": "g2_zero", "goal": "minimize"}],
                         constraints=[{"outcome": "plqy", "min": 0.3}],
                         fixed={"acquisition_s": 30.0},
                         strategy={"kind": "bo", "initial": 4, "batch": 1, "fidelity": FID})


def _obs(i, t, tau, g2, plqy, acq, se=0.1):
    return Observation(f"e{i}", {"temperature_c": t, "residence_time_s": tau, "acquisition_s": acq},
                       {"g2_zero": (g2, se), "plqy": (plqy, 0.01)})


HISTORY = [_obs(1, 230.0, 20.0, 0.6, 0.5, 2.0), _obs(2, 250.0, 300.0, 0.1, 0.6, 2.0),
           _obs(3, 270.0, 60.0, 0.05, 0.1, 2.0),  # best g2 but infeasible (plqy < 0.3)
           _obs(4, 290.0, 150.0, 0.5, 0.4, 2.0), _obs(5, 240.0, 40.0, 0.7, 0.35, 2.0)]


def test_initial_design_screens_at_the_lowest_fidelity():
    camp = _campaign()
    props, _ = propose(camp, [], 0, n=3)
    assert [p.conditions["acquisition_s"] for p in props] == [2.0, 2.0, 2.0]


def test_best_screened_point_is_confirmed_at_full_fidelity_first():
    camp = _campaign()
    assert confirmation_candidate(camp, HISTORY, []) == {"temperature_c": 250.0,
                                                         "residence_time_s": 300.0}
    props, info = propose(camp, HISTORY, 5, n=1)
    assert props[0].conditions == {"temperature_c": 250.0, "residence_time_s": 300.0,
                                   "acquisition_s": 30.0}
    assert "confirm" in info.strategy


def test_after_confirmation_new_points_are_screens_within_the_range():
    camp = _campaign()
    hist = HISTORY + [_obs(6, 250.0, 300.0, 0.12, 0.6, 30.0, se=0.03)]
    assert confirmation_candidate(camp, hist, []) is None
    props, info = propose(camp, hist, 6, n=2)
    assert info.strategy.startswith("bo:")
    for p in props:
        assert FID["low"] <= p.conditions["acquisition_s"] <= FID["high"]
        assert 220.0 <= p.conditions["temperature_c"] <= 300.0
        assert 10.0 <= p.conditions["residence_time_s"] <= 600.0
