"""The screen acquisition time the strategy chooses: t* = sqrt(a c) / sigma_f, the argmax of
the posterior-variance reduction per second of cost under a 1/t noise law (BOCA's
"cheapest informative fidelity", Kandasamy et al., ICML 2017, in closed form)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from surrogates import propose
from surrogates.fidelity import (
    OutcomeFit,
    local_noise_coefficients,
    noise_coefficient,
    optimal_time,
    screen_time,
    screen_times,
)
from surrogates.types import Observation, Proposal
from tests.surrogates._campaigns import make_campaign

FID = {"parameter": "acquisition_s", "low": 2.0, "high": 30.0, "overhead_s": 60.0}


def _campaign(initial=4):
    return make_campaign(objectives=[{"name": "g2_zero", "goal": "minimize"}],
                         constraints=[{"outcome": "plqy", "min": 0.3}],
                         fixed={"acquisition_s": 30.0},
                         strategy={"kind": "bo", "initial": initial, "batch": 1, "fidelity": FID})


def _obs(i, t, tau, g2, acq=2.0, se=0.05, plqy=0.5, failed=False):
    if failed:
        return Observation(f"e{i}", {"temperature_c": t, "residence_time_s": tau, "acquisition_s": acq},
                           {}, failed=True, failure_kind="clog")
    return Observation(f"e{i}", {"temperature_c": t, "residence_time_s": tau, "acquisition_s": acq},
                       {"g2_zero": (g2, se), "plqy": (plqy, 0.01)})


# ------------------------------------------------------------------ the closed form
def _reduction_per_second(t, sigma_f, a, c):
    s2 = sigma_f**2
    return s2 * s2 / ((s2 + a / t) * (c + t))


@pytest.mark.parametrize(("sigma_f", "a", "c"), [(0.1, 8e-4, 60.0), (0.01, 8e-4, 60.0),
                                                 (0.3, 0.05, 10.0), (0.02, 1e-3, 200.0)])
def test_closed_form_time_is_the_argmax_of_variance_reduction_per_second(sigma_f, a, c):
    # exact law: r(t) = sigma_f^4 / ((sigma_f^2 + a/t)(c + t)), maximised on a fine log grid
    grid = np.logspace(-3, 5, 400_001)
    t_grid = grid[np.argmax(_reduction_per_second(grid, sigma_f, a, c))]
    t_star = optimal_time(sigma_f, a, c)
    assert t_star == pytest.approx(t_grid, rel=1e-4)
    assert t_star == pytest.approx(math.sqrt(a * c) / sigma_f, rel=1e-12)
    # a maximum: nearby times do worse
    r = _reduction_per_second(t_star, sigma_f, a, c)
    assert r > _reduction_per_second(0.9 * t_star, sigma_f, a, c)
    assert r > _reduction_per_second(1.1 * t_star, sigma_f, a, c)


def test_more_certain_points_get_longer_times_and_the_range_clips():
    assert optimal_time(0.01, 8e-4, 60.0) == pytest.approx(10 * optimal_time(0.1, 8e-4, 60.0))
    assert screen_time(0.4, 2.0, 30.0) == 2.0      # below low
    assert screen_time(1e6, 2.0, 30.0) == 30.0     # above high: a full-fidelity run
    assert screen_time(7.04, 2.0, 30.0) == 7.0     # rounded to 0.1 s
    assert screen_time(29.97, 2.0, 30.0) == 30.0
    assert screen_time(2.04, 2.05, 30.0) == 2.05   # rounding stays inside the range


# ------------------------------------------------------------------ the noise coefficient
def test_noise_coefficient_is_the_median_of_stderr_squared_times_time():
    # se^2 * t = 1e-3, 2e-3, 3e-3 and one outlier (a blinking-dominated run) 0.5
    hist = [_obs(1, 230.0, 20.0, 0.3, acq=2.0, se=math.sqrt(1e-3 / 2.0)),
            _obs(2, 250.0, 50.0, 0.2, acq=10.0, se=math.sqrt(2e-3 / 10.0)),
            _obs(3, 270.0, 90.0, 0.1, acq=30.0, se=math.sqrt(3e-3 / 30.0)),
            _obs(4, 280.0, 90.0, 0.1, acq=5.0, se=math.sqrt(0.5 / 5.0)),
            _obs(5, 260.0, 90.0, 0.1, acq=5.0, failed=True),            # no outcome
            _obs(6, 265.0, 90.0, 0.1, acq=5.0, se=float("nan")),        # no stderr
            _obs(7, 266.0, 90.0, 0.1, acq=5.0, se=0.0)]                 # zero stderr
    assert noise_coefficient(hist, "g2_zero", "acquisition_s") == pytest.approx(2.5e-3, rel=1e-12)
    # the law a / t recovered from stderrs that follow it exactly
    exact = [_obs(i, 230.0 + i, 20.0, 0.3, acq=t, se=math.sqrt(8e-4 / t))
             for i, t in enumerate([2.0, 4.0, 7.5, 30.0])]
    assert noise_coefficient(exact, "g2_zero", "acquisition_s") == pytest.approx(8e-4, rel=1e-12)
    assert noise_coefficient(hist[4:5], "g2_zero", "acquisition_s") is None


def test_noise_coefficient_is_local_dim_dots_noisier_than_bright_ones():
    # g2 stderr**2 * t ~ 1 / rate**2 (HBT coincidences ~ rate**2 t): hot side bright (a =
    # 1e-4), cold side dim (a = 1e-2), at mixed times; the median (1e-3 here) fits neither
    camp = _campaign()
    hot = [_obs(i, 285.0 + 3 * (i % 4), 30.0 * (1 + i), 0.1, acq=t, se=math.sqrt(1e-4 / t))
           for i, t in enumerate([2.0, 5.0, 12.0, 30.0])]
    cold = [_obs(10 + i, 228.0 + 3 * (i % 4), 30.0 * (1 + i), 0.3, acq=t, se=math.sqrt(1e-2 / t))
            for i, t in enumerate([2.0, 5.0, 12.0, 30.0])]
    hist = hot + cold
    fit = OutcomeFit.of(camp, hist)
    pts = [Proposal({"temperature_c": 290.0, "residence_time_s": 60.0}),
           Proposal({"temperature_c": 230.0, "residence_time_s": 60.0})]
    a_hot, a_cold = local_noise_coefficients(fit, hist, "g2_zero", "acquisition_s", pts)
    assert a_hot == pytest.approx(1e-4, rel=0.3) and a_cold == pytest.approx(1e-2, rel=0.3)
    assert a_hot >= 1e-4 * (1 - 1e-9) and a_cold <= 1e-2 * (1 + 1e-9)  # within the measured range
    # the same posterior sd asks for a sqrt(100) = 10x longer look where the dots are dim
    _, d = screen_times(camp, hist, pts, fit)
    s_hot, s_cold = d["screens"]
    assert s_hot["noise_a"] == pytest.approx(a_hot, rel=1e-3)
    assert s_cold["t_star_s"] / s_hot["t_star_s"] == pytest.approx(
        math.sqrt(a_cold / a_hot) * s_hot["sigma_f"] / s_cold["sigma_f"], rel=1e-3)


# ------------------------------------------------------------------ from the model
# Five screens far from X (the model knows little at X) vs the same plus four screens at X.
X = Proposal({"temperature_c": 262.0, "residence_time_s": 120.0})
FAR = [_obs(1, 222.0, 12.0, 0.6), _obs(2, 298.0, 15.0, 0.45), _obs(3, 224.0, 580.0, 0.7),
       _obs(4, 296.0, 590.0, 0.5), _obs(5, 225.0, 100.0, 0.65)]
NEAR = FAR + [_obs(6 + i, 262.0, 120.0, 0.12 + 0.01 * i) for i in range(4)]


def test_uncertain_point_gets_a_shorter_screen_than_a_well_known_one():
    camp = _campaign()
    t_far, d_far = screen_times(camp, FAR, [X], OutcomeFit.of(camp, FAR))
    t_near, d_near = screen_times(camp, NEAR, [X], OutcomeFit.of(camp, NEAR))
    s_far, s_near = d_far["screens"][0]["sigma_f"], d_near["screens"][0]["sigma_f"]
    assert s_far > 2 * s_near
    assert t_far[0] < t_near[0]
    for t, d in ((t_far, d_far), (t_near, d_near)):
        s = d["screens"][0]
        a = s["noise_a"]
        assert a == d["noise_a_median"] == pytest.approx(0.05**2 * 2.0, rel=1e-3)  # all alike
        assert s["t_star_s"] == pytest.approx(math.sqrt(a * 60.0) / s["sigma_f"], rel=1e-3)
        assert t[0] == s["acquisition_s"] == screen_time(s["t_star_s"], 2.0, 30.0)
        assert 2.0 <= t[0] <= 30.0


def test_initial_design_and_missing_model_keep_the_lowest_time():
    camp = _campaign(initial=10)
    fit = OutcomeFit.of(camp, NEAR)
    assert screen_times(camp, NEAR, [X], fit) == ([2.0], None)  # 9 < 10: initial design
    times, _ = screen_times(_campaign(initial=9), NEAR, [X], fit)
    assert times[0] > 2.0                                         # 9 >= 9: from the model
    assert screen_times(_campaign(), FAR, [X], None) == ([2.0], None)                  # no model


def test_propose_records_the_choice_and_is_deterministic():
    camp = _campaign()
    p1, i1 = propose(camp, NEAR, len(NEAR), n=2)
    p2, i2 = propose(camp, NEAR, len(NEAR), n=2)
    assert p1 == p2 and i1.details == i2.details and i1.notes == i2.notes
    # the screened best (X) is confirmed at full fidelity, then one new point is screened
    assert p1[0].conditions == {**X.conditions, "acquisition_s": 30.0}
    chosen = i1.details["fidelity"]["screens"]
    assert [s["acquisition_s"] for s in chosen] == [p1[1].conditions["acquisition_s"]]
    assert 2.0 <= p1[1].conditions["acquisition_s"] <= 30.0
    assert any("t* = sqrt(a c) / sigma_f" in n for n in i1.notes)


def test_a_point_whose_time_reached_high_counts_as_confirmed():
    from surrogates.fidelity import confirmation_candidate

    camp = _campaign()
    assert confirmation_candidate(camp, NEAR, []) == X.conditions  # the screened best
    # t* >= high: the point ran at full fidelity as an ordinary BO point, so it is not
    # confirmed again (and is eligible as the reported best)
    full = _obs(20, 262.0, 120.0, 0.12, acq=30.0, se=0.01)
    assert confirmation_candidate(camp, NEAR + [full], []) != X.conditions
