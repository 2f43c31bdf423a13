"""Report v2 in physical units: traces, pairwise Pareto fronts, the first target hit,
ETA, the table with units and the plain-words terms."""

from __future__ import annotations

import re

import pytest

from sdl.report.physical import (
    eta,
    first_target_hit,
    fmt_seconds,
    non_dominated,
    objective_traces,
    pareto_pairs,
)
from sdl.schema.load import campaign_from_dict
from sdl.state import ExperimentState, RunState

CAMPAIGN = {
    "campaign": {"name": "v2", "seed": 1},
    "budget": {"experiments": 10},
    "parameters": [{"name": "temperature_c", "low": 220, "high": 300}],
    "objectives": [{"name": "pl_peak_nm", "target": 620, "tolerance": 3},
                   {"name": "fwhm_nm", "goal": "minimize"},
                   {"name": "plqy", "goal": "maximize"}],
    "strategy": {"kind": "sobol"},
}


def _exp(i, peak=None, fwhm=None, plqy=None, failed=False):
    e = ExperimentState(f"e{i:04d}", i, 0, {"temperature_c": 250.0}, {}, i,
                        status="failed" if failed else "scored")
    if failed:
        e.failure = {"kind": "clog", "reason": "clog:fouling"}
    for name, v in (("pl_peak_nm", peak), ("fwhm_nm", fwhm), ("plqy", plqy)):
        if v is not None:
            e.outcomes[name] = {"value": v, "stderr": 0.1}
    return e


@pytest.fixture
def campaign():
    return campaign_from_dict(CAMPAIGN)


def test_traces_are_in_physical_units_with_running_best(campaign):
    done = [_exp(1, 630, 40, 0.2), _exp(2, failed=True), _exp(3, 618, 45, 0.5),
            _exp(4, 621, 30, 0.1)]
    pl, fwhm, plqy = objective_traces(campaign, done)
    assert pl.label == "|pl_peak_nm − 620| (nm)" and pl.lower_is_better and pl.tolerance == 3
    assert pl.n == [1, 3, 4] and pl.values == [10, 2, 1] and pl.best == [10, 2, 1]
    assert pl.failed_n == [2]
    assert fwhm.values == [40, 45, 30] and fwhm.best == [40, 40, 30]
    assert plqy.label == "plqy (fraction)" and plqy.best == [0.2, 0.5, 0.5]


def test_pareto_covers_every_pair_and_marks_the_front(campaign):
    scored = [_exp(1, 630, 40, 0.2), _exp(2, 618, 45, 0.5), _exp(3, 621, 30, 0.1),
              _exp(4, 625, 50, 0.05)]
    pairs = pareto_pairs(campaign, scored)
    assert [(p.x_name, p.y_name) for p in pairs] == [
        ("pl_peak_nm", "fwhm_nm"), ("pl_peak_nm", "plqy"), ("fwhm_nm", "plqy")]
    # distance vs fwhm (both minimised): e0003 (1, 30) dominates e0001 (10, 40), e0004
    # (5, 50); e0002 (2, 45) is not dominated by e0003? 1 < 2 and 30 < 45: dominated.
    assert dict(zip(pairs[0].ids, pairs[0].front, strict=True)) == {
        "e0001": False, "e0002": False, "e0003": True, "e0004": False}
    # distance (min) vs plqy (max): e0003 (1, 0.1) and e0002 (2, 0.5) trade off
    assert dict(zip(pairs[1].ids, pairs[1].front, strict=True)) == {
        "e0001": False, "e0002": True, "e0003": True, "e0004": False}
    assert list(non_dominated([[1, 1], [1, 1]], [True, True])) == [True, True]  # ties stay


def test_target_reached_by_names_the_first_hit_not_the_best(campaign):
    done = [_exp(1, 630, 40, 0.2), _exp(2, 622.5, 45, 0.1), _exp(3, 620.1, 30, 0.9)]
    assert first_target_hit(campaign, done).experiment_id == "e0002"
    assert first_target_hit(campaign, done[:1]) is None


def test_eta_from_budget_and_mean_cycle_time():
    st = RunState(started={"budget_experiments": 10})
    for i in range(4):
        e = _exp(i + 1, 620, 30, 0.5)
        st.experiments[e.experiment_id] = e
        st.terminal_order.append(e.experiment_id)
    est = eta(st, active_seconds=40.0)
    assert (est.done, est.budget, est.seconds_per_experiment, est.seconds_left) == (4, 10, 10.0, 60.0)
    assert eta(st, 40.0, hours=0.0125).seconds_left == pytest.approx(5.0)  # 45 s budget
    assert eta(RunState(started={"budget_experiments": 3}), 0.0).seconds_left is None
    assert [fmt_seconds(x) for x in (4.24, 42, 185, 7620, None)] == [
        "4.2 s", "42 s", "3 min 05 s", "2 h 07 min", "?"]


@pytest.mark.slow
def test_report_of_a_real_run_has_units_terms_and_model_sections(tmp_path):
    from sdl.report import build_html
    from tests.sdl.serve.helpers import SteppedRun, sobol_campaign

    run = SteppedRun(sobol_campaign(tmp_path, 6), tmp_path / "run")
    for _ in range(6):
        run.step()
    run.close()
    text = build_html(tmp_path / "run")
    assert '<th>temperature_c<span class="u">degC</span></th>' in text
    assert '<th>pl_peak_nm<span class="u">nm</span></th>' in text
    assert "utility per sdl.utility" not in text and "Derringer" not in text
    terms = re.search(r'<section id="terms">(.*?)</section>', text, re.S).group(1)
    assert "<dt>pl_peak_nm</dt><dd>colour of the emitted light" in terms
    assert "target 620 ± 3 nm" in terms and "<dt>Pareto front</dt>" in terms
    for key in ("slices", "importance", "loo"):
        assert f'<section id="plot-{key}">' in text and "data:image/png" in text
    opt = re.search(r'<section id="plot-optimum">(.*?)</section>', text, re.S).group(1)
    assert "Conditions: temperature_c = " in opt and "pl_peak_nm " in opt and "± " in opt


def test_best_so_far_counts_only_experiments_that_meet_the_constraints():
    c = campaign_from_dict({**CAMPAIGN, "objectives": [{"name": "fwhm_nm", "goal": "minimize"}],
                            "constraints": [{"outcome": "plqy", "min": 0.3}]})
    done = [_exp(1, 620, 25, 0.1), _exp(2, 620, 40, 0.5), _exp(3, 620, 20, 0.2),
            _exp(4, 620, 35, 0.6)]
    (t,) = objective_traces(c, done)
    assert t.feasible == [False, True, False, True]
    assert t.best == [None, 40, 40, 35]  # 25 and 20 break plqy >= 0.3
