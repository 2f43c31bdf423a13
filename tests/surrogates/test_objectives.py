"""Utilities of objectives and outcome-constraint callables."""

from __future__ import annotations

import math

import torch

from surrogates.objectives import ObjectiveSpec, Problem
from tests.surrogates._campaigns import make_campaign


def test_setpoint_desirability_is_smooth_and_peaks_at_target():
    spec = ObjectiveSpec("pl_peak_nm", "target", 620.0, 3.0)
    y = torch.linspace(600, 640, 4001, dtype=torch.float64, requires_grad=True)
    u = spec.utility(y)
    assert float(y.detach()[int(torch.argmax(u))]) == 620.0
    assert math.isclose(float(spec.utility(torch.tensor(623.0, dtype=torch.float64))), -math.log(2.0))
    assert math.isclose(float(spec.utility(torch.tensor(617.0, dtype=torch.float64))), -math.log(2.0))
    (g,) = torch.autograd.grad(u.sum(), y)
    # no kink: the slope passes through zero continuously at the target
    i = int(torch.argmin((y - 620).abs()))
    assert abs(float(g[i])) < 1e-12 and abs(float(g[i + 1])) < 0.003 and abs(float(g[i - 1])) < 0.003
    # slope never vanishes away from the target (monotone in |y - t|)
    assert bool((g[:i] > 0).all()) and bool((g[i + 1:] < 0).all())


def test_max_and_min():
    y = torch.tensor([1.0, 2.0])
    assert torch.equal(ObjectiveSpec("plqy", "maximize").utility(y), y)
    assert torch.equal(ObjectiveSpec("fwhm_nm", "minimize").utility(y), -y)


def test_problem_orders_outputs_and_builds_constraints():
    c = make_campaign(
        objectives=[{"name": "g2_zero", "goal": "minimize"}],
        constraints=[{"outcome": "plqy", "min": 0.3}, {"outcome": "pl_peak_nm", "min": 600, "max": 630}],
    )
    p = Problem.from_campaign(c)
    assert p.modelled == ("g2_zero", "plqy", "pl_peak_nm")
    Y = torch.tensor([[0.1, 0.5, 615.0], [0.1, 0.2, 615.0], [0.1, 0.5, 640.0]], dtype=torch.float64)
    cons = p.constraint_callables()
    feasible = torch.stack([f(Y) for f in cons]).le(0).all(0)
    assert feasible.tolist() == [True, False, False]
    assert p.observed_feasible({"g2_zero": (0.1, 0.0), "plqy": (0.5, 0.0), "pl_peak_nm": (615.0, 0.0)})
    assert not p.observed_feasible({"g2_zero": (0.1, 0.0), "plqy": (0.5, 0.0)})
