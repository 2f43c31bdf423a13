"""Lab time in the acquisition: the smooth lab-seconds model against `sdl.vocab.labtime`,
and the weight's pull towards cheap experiments (short residence, no re-settling)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sdl.vocab.conditions import complete
from sdl.vocab.flows import flow_chemistry, flows_from_conditions
from sdl.vocab.labtime import DEFAULT_TIMING, FlowTiming, lab_time, run_lab_time
from surrogates import propose
from surrogates.acquisition import LogWeighted, optimize
from surrogates.design import sobol_points
from surrogates.encoding import Encoder
from surrogates.labcost import (
    CANDIDATES_PER_POINT,
    UNIT_S,
    cooling,
    lab_seconds,
    lab_time_design,
    lab_time_weight,
)
from surrogates.models import DTYPE
from surrogates.settings import DEFAULT
from surrogates.types import Proposal
from tests.surrogates._campaigns import make_campaign


def _exact(prev, cond, timing=DEFAULT_TIMING) -> float:
    full = complete(cond)
    flows = flows_from_conditions(full, flow_chemistry("CdSe"), timing.reactor_volume_ul)
    return lab_time(None if prev is None else complete(prev), full, flows, timing).total_s


@pytest.mark.parametrize("prev_t, t, res", [
    (220.0, 300.0, 10.0),    # 80 degC up: 240 s + 30 s settle, flush 30 s
    (290.0, 250.0, 600.0),   # 40 degC down, the slowest flow: flush 1800 s
    (260.0, 260.0, 75.0),    # no change of set point: no settling
    (None, 233.0, 42.0),     # the first experiment: nothing to settle from
])
def test_smooth_lab_seconds_equal_the_lab_time_model(prev_t, t, res):
    camp = make_campaign()
    enc = Encoder.from_campaign(camp)
    x = torch.as_tensor(enc.encode({"temperature_c": t, "residence_time_s": res}), dtype=DTYPE)
    prev = None if prev_t is None else {"temperature_c": prev_t, "residence_time_s": 30.0}
    got = float(lab_seconds(camp, enc, prev, x))
    want = _exact(prev, {"temperature_c": t, "residence_time_s": res})
    # the soft |dT| and the sigmoid at the band change it by < 0.01 s away from the band
    assert got == pytest.approx(want, abs=0.01)


def test_stage2_volume_and_fixed_acquisition_are_charged():
    timing = FlowTiming(stage2_volume_ul=250.0)
    camp = make_campaign(fixed={"acquisition_s": 12.0})
    enc = Encoder.from_campaign(camp)
    x = torch.as_tensor(enc.encode({"temperature_c": 250.0, "residence_time_s": 100.0}), dtype=DTYPE)
    # no shell or exchange stream: Q_total = Q_core, stage 2 adds half a residence per volume
    want = 3 * (100.0 + 50.0) + timing.measure_overhead_s + 12.0
    assert float(lab_seconds(camp, enc, {"temperature_c": 250.0}, x, timing)) == pytest.approx(want, abs=0.01)


def test_weight_gradient_matches_finite_differences():
    camp = make_campaign()
    enc = Encoder.from_campaign(camp)
    w = lab_time_weight(camp, enc, {"temperature_c": 240.0})
    x = torch.tensor([[[0.6, 0.4]]], dtype=DTYPE, requires_grad=True)
    w(x).sum().backward()
    h = 1e-6
    for j in range(2):
        e = torch.zeros_like(x)
        e[..., j] = h
        fd = (float(w(x.detach() + e)) - float(w(x.detach() - e))) / (2 * h)
        assert float(x.grad[..., j]) == pytest.approx(fd, rel=1e-5)
    assert float(w(x.detach())) == pytest.approx(
        -torch.log(lab_seconds(camp, enc, {"temperature_c": 240.0}, x.detach()) / UNIT_S).item())


class _Flat(torch.nn.Module):
    """A flat log-acquisition (0 everywhere), so the weight alone decides."""

    def __init__(self):
        super().__init__()
        self.model = None
        self.X_pending = None

    def forward(self, X):
        return torch.zeros(X.shape[:-2], dtype=DTYPE) + 0.0 * X.sum((-2, -1))

    def set_X_pending(self, X_pending=None):
        self.X_pending = X_pending


def test_weight_alone_picks_the_cheapest_experiment():
    # with nothing to gain anywhere, the cheapest experiment after one at 263 degC is the
    # shortest residence (flush 3 x 10 s) at the same temperature (no re-settling)
    camp = make_campaign()
    enc = Encoder.from_campaign(camp)
    acq = LogWeighted.__new__(LogWeighted)
    torch.nn.Module.__init__(acq)
    acq.base = _Flat()
    acq._weights = [lab_time_weight(camp, enc, {"temperature_c": 263.0})]
    Z, _ = optimize(acq, enc, 1, 3, DEFAULT)
    cond = enc.decode(Z.numpy())[0]
    assert cond["residence_time_s"] == pytest.approx(10.0, rel=1e-3)
    assert cond["temperature_c"] == pytest.approx(263.0, abs=DEFAULT_TIMING.temperature_band_c)


def test_cooling_is_ei_cool_exponent():
    # Lee et al. 2020: alpha = (B - spent) / (B - initial), clipped to [0, 1]
    camp = make_campaign()  # budget 30, initial 4
    assert [cooling(camp, n) for n in (2, 4, 17, 30, 31)] == [1.0, 1.0, 0.5, 0.0, 0.0]


def _design_campaign(**fixed):
    params = [{"name": "temperature_c", "low": 220, "high": 300},
              {"name": "metal_conc_mm", "low": 5, "high": 50}]
    if not fixed:
        params.append({"name": "residence_time_s", "low": 10, "high": 600, "scale": "log"})
    return make_campaign(parameters=params, fixed=fixed,
                         strategy={"kind": "bo", "initial": 6, "initial_design": "lab_time"})


def test_lab_time_design_is_cheap_first_and_runs_in_rising_temperature():
    camp = _design_campaign()
    enc = Encoder.from_campaign(camp)
    design = lab_time_design(camp, enc, 6)
    cands = sobol_points(enc, camp.seed, 0, CANDIDATES_PER_POINT * 6)
    assert all(p in cands for p in design) and len({tuple(p.values()) for p in design}) == 6
    costs = [float(lab_seconds(camp, enc, None, torch.as_tensor(enc.encode(p), dtype=DTYPE)))
             for p in cands]
    assert cands[costs.index(min(costs))] in design  # the first pick: the cheapest candidate
    temps = [p["temperature_c"] for p in design]
    assert temps == sorted(temps)
    # cheaper than the plain Sobol start of the same campaign, run as designed
    full = [complete(p) for p in design]
    sob = [complete(p) for p in sobol_points(enc, camp.seed, 0, 6)]
    assert run_lab_time(full, "CdSe")[0] < 0.5 * run_lab_time(sob, "CdSe")[0]


def test_lab_time_design_at_equal_cost_is_greedy_maximin():
    # residence fixed: every candidate costs the same, so the rule is farthest-point
    # sampling from the first (cheapest = first on ties) candidate
    camp = _design_campaign(residence_time_s=60.0)
    enc = Encoder.from_campaign(camp)
    design = lab_time_design(camp, enc, 5)
    cands = sobol_points(enc, camp.seed, 0, CANDIDATES_PER_POINT * 5)
    Z = enc.encode_many(cands)
    taken = [0]
    for _ in range(4):
        d = np.min(np.linalg.norm(Z[:, None, :] - Z[None, taken, :], axis=-1), axis=1)
        d[taken] = -1
        taken.append(int(np.argmax(d)))
    want = sorted((cands[i] for i in taken), key=lambda p: p["temperature_c"])
    assert design == want


def test_propose_runs_the_lab_time_design_then_fresh_sobol_points():
    camp = _design_campaign()
    enc = Encoder.from_campaign(camp)
    design = lab_time_design(camp, enc, 6)
    got = []
    for k in range(2):
        props, info = propose(camp, [], k, pending=[Proposal(c) for c in got], n=4)
        got += [p.conditions for p in props]
        assert info.strategy == "bo:lab-time-initial"
    assert got[:6] == design
    assert got[6:] == sobol_points(enc, camp.seed, CANDIDATES_PER_POINT * 6, 2)  # past the candidates


def test_batch_weight_is_log_of_the_whole_batch_lab_time_in_proposed_order():
    # q = 3 after an experiment at 240 degC: the weights sum to -log(S / 60 s), S the lab
    # time of the three run in the proposed order (each settling from the one before), as
    # the exact lab-time model gives it; one batch is charged once, not q times
    camp = make_campaign()
    enc = Encoder.from_campaign(camp)
    pts = [{"temperature_c": 280.0, "residence_time_s": 20.0},
           {"temperature_c": 250.0, "residence_time_s": 300.0},
           {"temperature_c": 252.0, "residence_time_s": 12.0}]
    last = {"temperature_c": 240.0, "residence_time_s": 30.0}
    X = torch.as_tensor(np.stack([enc.encode(p) for p in pts]), dtype=DTYPE).unsqueeze(0)
    w = lab_time_weight(camp, enc, last)(X)
    assert w.shape == (1, 3)
    exact = run_lab_time([complete(last)] + [complete(p) for p in pts], "CdSe")[0] \
        - run_lab_time([complete(last)], "CdSe")[0]
    assert float(w.sum()) == pytest.approx(-np.log(exact / UNIT_S), abs=1e-4)
    half = lab_time_weight(camp, enc, last, exponent=0.5)(X)
    assert float(half.sum()) == pytest.approx(0.5 * float(w.sum()))
