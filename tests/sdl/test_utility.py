"""The reported best of a multi-fidelity campaign is a full-fidelity measurement."""

from __future__ import annotations

from sdl.utility import best_index, full_fidelity, utilities
from tests.surrogates._campaigns import make_campaign

FID = {"parameter": "acquisition_s", "low": 2.0, "high": 30.0, "overhead_s": 60.0}


def _campaign(fidelity=True):
    strategy = {"kind": "bo", "initial": 4, "batch": 1}
    if fidelity:
        strategy["fidelity"] = FID
    return make_campaign(objectives=[{"name": "g2_zero", "goal": "minimize"}],
                         fixed={"acquisition_s": 30.0}, strategy=strategy)


OUTCOMES = [{"g2_zero": {"value": 0.02}}, {"g2_zero": {"value": 0.10}}, {"g2_zero": {"value": 0.30}}]
CONDITIONS = [{"temperature_c": 250.0, "acquisition_s": 2.0},   # best g2, a 2 s screen
              {"temperature_c": 260.0, "acquisition_s": 30.0},  # confirmed at full fidelity
              {"temperature_c": 270.0, "acquisition_s": 30.0}]


def test_a_screen_is_not_the_reported_best_until_confirmed():
    camp = _campaign()
    assert not full_fidelity(camp, CONDITIONS[0]) and full_fidelity(camp, CONDITIONS[1])
    assert max(range(3), key=lambda i: utilities(camp, OUTCOMES)[i]) == 0  # by utility: the screen
    assert best_index(camp, OUTCOMES, CONDITIONS) == 1
    assert best_index(camp, OUTCOMES[:1], CONDITIONS[:1]) is None  # screens only: none yet


def test_without_fidelity_every_experiment_counts():
    camp = _campaign(fidelity=False)
    assert best_index(camp, OUTCOMES, CONDITIONS) == 0
