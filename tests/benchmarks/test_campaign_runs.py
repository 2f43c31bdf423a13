"""The command line the seeded benchmarks share (benchmarks/campaign_runs.py): the flags
and defaults their docstrings and issue 19 promise (`--quick`: 3 seeds; full: 10)."""

from __future__ import annotations

from benchmarks.campaign_runs import seeded_parser, sizes, with_changes
from tests.surrogates._campaigns import make_campaign


def test_quick_and_full_sizes_and_overrides():
    ap = seeded_parser("sdl bench x", "doc", "3 seeds")
    assert sizes(ap.parse_args(["--quick"])) == (3, 20, 128)
    assert sizes(ap.parse_args([])) == (10, 40, 512)
    assert sizes(ap.parse_args(["--quick"]), (15, 30)) == (3, 15, 128)  # bench transfer
    args = ap.parse_args(["--seeds", "5", "--budget", "12", "--sweep", "64", "--json",
                          "--target-fraction", "0.9"])
    assert sizes(args) == (5, 12, 64) and args.json and args.target_fraction == 0.9


def test_target_fraction_default_is_per_benchmark():
    assert seeded_parser("p", "d", "q").parse_args([]).target_fraction == 0.95
    assert seeded_parser("p", "d", "q", 0.98).parse_args([]).target_fraction == 0.98  # fidelity


def test_with_changes_replaces_dotted_keys_and_revalidates():
    c = make_campaign()
    d = with_changes(c, **{"strategy.batch": 4, "campaign.seed": 11})
    assert (d.strategy.batch, d.seed) == (4, 11)
    assert (c.strategy.batch, c.seed) == (1, 5)  # the original is untouched


def test_fidelity_censored_run_is_charged_budget_plus_one_full_fidelity_experiments():
    from benchmarks.bench_fidelity import HIGH_S, to_target

    screens = [{"acquisition_s": 2.0}] * 3
    # never confirmed: censored like experiments_to_target, at full-fidelity seconds
    assert to_target(screens, [0.99, 0.99, 0.99], 1.0, 0.98, 3) == (4, 4 * HIGH_S)
    # a screen hit confirmed at full fidelity: the screens' and the confirmation's seconds
    assert to_target(screens[:1] + [{"acquisition_s": HIGH_S}], [0.99, 0.99], 1.0, 0.98, 2) \
        == (2, 2.0 + HIGH_S)


def test_run_stops_when_its_allowance_is_spent():
    # bench fidelity gives both arms the same instrument seconds: a run ends once `stop`
    # says its allowance is spent, before its experiment cap.
    from benchmarks.bench_bo import BenchProblem, _colour_score, _load
    from benchmarks.bench_fidelity import instrument_s
    from benchmarks.campaign_runs import run_campaign

    camp = with_changes(_load("cdse_620nm.toml"), **{"strategy.kind": "sobol"})
    problem = BenchProblem("cdse-colour", camp, _colour_score)
    tr = run_campaign(problem, camp, 1000, 10, stop=lambda t: instrument_s(t) >= 90.0)
    assert len(tr.conditions) == 3 and len(tr.scores) == len(tr.lab) == 3  # 3 x 30 s
    assert len(run_campaign(problem, camp, 1000, 4).conditions) == 4  # no stop: the cap
