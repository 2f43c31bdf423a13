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


# --------------------------------------------------------------- confirmation from the model
# A 2 s screen of a blinking dot scatters its count rate far beyond its own noise; the
# point to confirm is chosen from the GPs' posterior (feasibility probability, mean
# utility), not from whether the raw screen happened to pass the brightness floor.
def _bright_campaign():
    return make_campaign(objectives=[{"name": "g2_zero", "goal": "minimize"}],
                         constraints=[{"outcome": "count_rate_kcps", "min": 100}],
                         fixed={"acquisition_s": 30.0},
                         strategy={"kind": "bo", "initial": 4, "batch": 1, "fidelity": FID})


def _screen(i, t, tau, g2, kcps):
    return Observation(f"e{i}", {"temperature_c": t, "residence_time_s": tau, "acquisition_s": 2.0},
                       {"g2_zero": (g2, 0.02), "count_rate_kcps": (kcps, 0.3 * kcps)})


# dim below ~250 degC (30-50 kcps), bright above ~270 degC (190-260 kcps)
DIM = [_screen(1, 225.0, 30.0, 0.12, 35.0), _screen(2, 235.0, 200.0, 0.15, 45.0),
       _screen(4, 230.0, 500.0, 0.18, 40.0)]
BRIGHT = [_screen(5, 270.0, 20.0, 0.40, 220.0), _screen(6, 295.0, 400.0, 0.45, 240.0),
          _screen(7, 275.0, 300.0, 0.35, 200.0), _screen(8, 280.0, 100.0, 0.15, 260.0),
          _screen(10, 290.0, 100.0, 0.16, 250.0)]


def test_good_point_whose_noisy_screen_missed_the_floor_is_confirmed():
    from surrogates.objectives import Problem

    camp = _bright_campaign()
    unlucky = _screen(9, 285.0, 100.0, 0.03, 85.0)  # best g2, between two bright screens
    hist = DIM + [_screen(3, 245.0, 60.0, 0.10, 50.0)] + BRIGHT + [unlucky]
    # its own screen fails the floor (the old rule, measured constraints, never took it)
    assert not Problem.from_campaign(camp).observed_feasible(unlucky.outcomes)
    assert confirmation_candidate(camp, hist, []) == {"temperature_c": 285.0,
                                                      "residence_time_s": 100.0}
    props, info = propose(camp, hist, len(hist), n=1)
    assert props[0].conditions == {"temperature_c": 285.0, "residence_time_s": 100.0,
                                   "acquisition_s": 30.0}
    assert "confirm" in info.strategy


def test_lucky_screen_in_a_dim_region_is_not_confirmed():
    from surrogates.objectives import Problem

    camp = _bright_campaign()
    lucky = _screen(3, 230.0, 90.0, 0.02, 110.0)  # best g2, passed the floor by chance
    # amid dim screens
    hist = DIM + [lucky] + BRIGHT
    assert Problem.from_campaign(camp).observed_feasible(lucky.outcomes)  # old rule: confirm it
    cand = confirmation_candidate(camp, hist, [])
    assert cand is not None and cand["temperature_c"] >= 270.0  # a bright point instead


def test_nothing_is_confirmed_before_the_initial_design_is_done_or_twice():
    camp = _bright_campaign()
    assert confirmation_candidate(camp, DIM, []) is None  # 3 < initial = 4
    hist = DIM + BRIGHT
    cand = confirmation_candidate(camp, hist, [])
    assert cand is not None
    confirmed = Observation("e11", {**cand, "acquisition_s": 30.0},
                            {"g2_zero": (0.15, 0.005), "count_rate_kcps": (240.0, 10.0)})
    again = confirmation_candidate(camp, hist + [confirmed], [])
    assert again != cand
