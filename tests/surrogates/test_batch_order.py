"""Flow-aware batch order: exact least-changeover order on small hand-checked examples."""

from __future__ import annotations

import itertools

import pytest

from sdl.vocab.labtime import FlowTiming
from surrogates.batch_order import best_order, order_proposals, path_cost, settle_cost
from tests.surrogates._campaigns import make_campaign


def test_four_temperatures_hand_checked():
    # start at 220 degC; ramp 20 degC/min, 30 s stable time, 1 degC band.
    # Ascending 230, 250, 260, 300: |dT| = 10 + 20 + 10 + 40 = 80 degC -> 240 s + 4 x 30 s
    # = 360 s. The proposed order 300, 230, 260, 250: 80 + 70 + 30 + 10 = 190 degC -> 570 s
    # + 120 s = 690 s.
    pts = [{"temperature_c": t} for t in (300.0, 230.0, 260.0, 250.0)]
    cost = settle_cost(FlowTiming())
    order, c = best_order({"temperature_c": 220.0}, pts, cost)
    assert order == [1, 3, 2, 0]
    assert c == pytest.approx(360.0)
    assert path_cost({"temperature_c": 220.0}, pts, range(4), cost) == pytest.approx(690.0)


def test_exact_on_asymmetric_costs_where_greedy_fails():
    # start S and runs a, b, c, d with a hand-made asymmetric cost table. Nearest neighbour
    # from S takes a (1), then must pay 50 somewhere; the optimum S-b-c-d-a costs
    # 2 + 2 + 2 + 2 = 8 (checked against all 24 orders below).
    names = ["a", "b", "c", "d"]
    table = {("S", "a"): 1, ("S", "b"): 2, ("S", "c"): 9, ("S", "d"): 9,
             ("a", "b"): 50, ("a", "c"): 50, ("a", "d"): 50,
             ("b", "a"): 9, ("b", "c"): 2, ("b", "d"): 9,
             ("c", "a"): 9, ("c", "b"): 9, ("c", "d"): 2,
             ("d", "a"): 2, ("d", "b"): 9, ("d", "c"): 9}
    pts = [{"id": n} for n in names]

    def cost(prev, nxt):
        return float(table[(prev["id"] if prev else "S", nxt["id"])])

    order, c = best_order({"id": "S"}, pts, cost)
    brute = min(path_cost({"id": "S"}, pts, p, cost) for p in itertools.permutations(range(4)))
    assert c == brute == 8.0
    assert [names[i] for i in order] == ["b", "c", "d", "a"]


def test_order_proposals_uses_fixed_conditions_and_reports_both_costs():
    # the fixed stage-2 temperature completes every point (and the start): no dT there
    camp = make_campaign(fixed={"shell_temperature_c": 220.0})
    props = [{"temperature_c": t, "residence_time_s": 60.0} for t in (290.0, 230.0, 260.0)]
    order, c, before = order_proposals(camp, {"temperature_c": 225.0}, props)
    assert order == [1, 2, 0]
    # 225 -> 230 -> 260 -> 290: 65 degC -> 195 s + 3 x 30 s
    assert c == pytest.approx(285.0)
    # 225 -> 290 -> 230 -> 260: 155 degC -> 465 s + 90 s
    assert before == pytest.approx(555.0)
