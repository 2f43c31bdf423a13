"""`sdl run CAMPAIGN.toml [--rig RIG.toml] [--out DIR] [--budget N]`: run a campaign.

Without --rig the campaign runs on the built-in simulator and says so in its first line.
With --rig it drives the devices and never falls back silently: a missing device stops
the run unless --fallback-to-simulator was given (and then it says so loudly).
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = """examples:
  sdl run campaigns/cdse_620nm.toml                       simulator, runs/cdse-620nm-<utc>/
  sdl run campaigns/cdse_620nm.toml --budget 12 --out runs/try1
  sdl run campaigns/cdse_620nm.toml --rig campaigns/rigs/example_rig.toml
  sdl resume runs/try1                                    continue after a crash or Ctrl-C
  sdl resume runs/try1 --budget 30                        extend a finished run
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run", help="run a campaign (simulator by default, --rig for hardware)",
        description="Run a campaign: propose, run, measure and score experiments until the "
        "budget is used. Without --rig it runs on the built-in physics simulator. Every "
        "event lands in the run directory's record (see `sdl status`, `sdl report`).",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("campaign", help="campaign TOML file (check it with `sdl validate`)")
    p.add_argument("--rig", metavar="RIG.toml",
                   help="rig TOML file (devices); omit to use the simulator")
    p.add_argument("--out", metavar="DIR",
                   help="run directory to create (default runs/<name>-<utc>)")
    p.add_argument("--runs-dir", default="runs", metavar="DIR",
                   help="parent of new run directories (default: runs)")
    p.add_argument("--budget", type=positive_int, metavar="N",
                   help="number of experiments (overrides the campaign file's budget)")
    p.add_argument("--fallback-to-simulator", action="store_true",
                   help="with --rig: use the simulator if a device is missing (said loudly "
                   "and recorded)")
    p.add_argument("--no-report", action="store_true", help="skip writing report.html")
    add_notify_args(p)
    p.add_argument("--prior", action="append", metavar="FILE.csv|RUN_DIR", default=[],
                   help="seed the optimiser with earlier experiments: an `sdl export` CSV or "
                        "a run directory (repeatable); not counted against the budget")
    p.set_defaults(func=run)


def read_priors(sources: list[str], campaign, say) -> list:
    """Validate every --prior source before the run directory is created; one line per
    skipped row."""
    from sdl.prior import read_prior

    priors = []
    for src in sources:
        prior = read_prior(src, campaign)
        for line in prior.skipped:
            say(f"prior {src} {line}")
        say(f"prior {src}: {len(prior.rows)} earlier experiments seed the optimiser "
            f"(sha256 {prior.sha256[:12]}…; not counted against the budget)")
        priors.append(prior)
    return priors


def add_notify_args(p: argparse.ArgumentParser) -> None:
    """--notify URL (repeatable) and --notify-summary-at HH:MM; shared with resume."""
    p.add_argument("--notify", action="append", metavar="URL", default=[],
                   help="Apprise URL to alert on stop, interlock, incomplete safe state, 3 rig "
                        "faults in a row, target reached and a morning summary (repeatable), "
                        "e.g. json://host:port/path, ntfy://topic, mailto://...")
    p.add_argument("--notify-summary-at", metavar="HH:MM", default="07:00",
                   help="local time of the daily morning summary (default 07:00; 'off' for none)")


def make_notifier(args: argparse.Namespace, campaign_name: str):
    """A `sdl.notify.Notifier` for --notify (None without); bad URLs fail here."""
    if not args.notify:
        return None
    from sdl.notify import Notifier

    at = None if args.notify_summary_at == "off" else args.notify_summary_at
    return Notifier(args.notify, run_dir="", campaign_name=campaign_name, summary_at=at)


def positive_int(text: str) -> int:
    """argparse type: a whole number of experiments >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of experiments, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"budget must be >= 1, got {v}")
    return v


def run(args: argparse.Namespace) -> int:
    from sdl.console import LoopConsole
    from sdl.errors import HardwareUnavailable
    from sdl.provenance import hardware_driver, sha256_bytes, simulator_driver
    from sdl.rigs import device_identities, hardware_rig, simulated_rig
    from sdl.schema.load import load_campaign, load_rig
    from sdl.schema.semantics import check_campaign_with_rig

    campaign = load_campaign(args.campaign)  # schema and semantics, before creating anything
    notifier = make_notifier(args, campaign.name)
    out = LoopConsole(total=args.budget or campaign.budget.experiments)
    material, seed = campaign.campaign.material, campaign.seed
    priors = read_priors(args.prior, campaign, out.say)  # bad rows: before any device opens
    if args.budget is not None and campaign.strategy.kind == "bo" \
            and args.budget <= campaign.strategy.initial:
        out.say(f"note: --budget {args.budget} is not above strategy.initial = "
                f"{campaign.strategy.initial}: every experiment comes from the initial design "
                "and the optimiser (BO) never runs")
    if args.rig:
        rig_file = load_rig(args.rig)
        check_campaign_with_rig(campaign, rig_file, args.rig)
        rig_bytes = Path(args.rig).read_bytes()
        try:
            rig = hardware_rig(args.rig, material=material)
            rig_kind = "flowrig"
            driver = hardware_driver(rig_bytes, rig_file.rig.name, device_identities(rig))
            first = f"Running '{campaign.name}' on the rig in {args.rig}"
        except HardwareUnavailable as e:
            if not args.fallback_to_simulator:
                raise
            rig = simulated_rig(campaign)
            rig_kind = "simulator-fallback"
            driver = simulator_driver(material, seed, fallback_for_rig_sha256=sha256_bytes(rig_bytes),
                                      fallback_reason=f"--fallback-to-simulator: {e}")
            first = (f"!!! SIMULATING: the rig in {args.rig} is not available ({e}); "
                     f"--fallback-to-simulator given, so '{campaign.name}' runs on the "
                     "built-in simulator. NO DEVICE WILL MOVE. !!!")
    else:
        rig = simulated_rig(campaign)
        rig_kind = "simulator"
        driver = simulator_driver(material, seed)
        first = (f"Running '{campaign.name}' on the built-in simulator (no --rig given; "
                 f"material {material}, seed {seed})")
    out.say(first)
    return _drive(args.campaign, rig, rig_kind, args, out, driver, notifier, priors)


def _drive(campaign_path, rig, rig_kind, args, out, driver=None, notifier=None,
           priors=()) -> int:
    from sdl.session import Session

    try:
        session = Session.create(campaign_path, out=args.out, base=args.runs_dir,
                                 rig_path=args.rig, rig_kind=rig_kind, budget=args.budget,
                                 driver=driver)
        for prior in priors:
            session.add_prior(prior)
    except BaseException:
        _close_quietly(rig)
        raise
    out.say(f"run directory: {session.run_dir}")
    return finish(session, rig, out, args.no_report, notifier)


def _close_quietly(rig) -> None:
    """Release a rig that never ran (its ports opened by the probe)."""
    try:
        rig.close()
    except Exception:  # noqa: BLE001 - nothing moved; the user sees the original error
        pass


def finish(session, rig, out, no_report: bool, notifier=None) -> int:
    """Run the loop on an open session, then summarise; shared by run and resume."""
    from sdl.console import plural
    from sdl.errors import SdlError
    from sdl.loop import best_line, run_loop

    hooks = [out]
    if notifier is not None:
        notifier.run_dir = str(session.run_dir)
        notifier.start()
        hooks.append(notifier)
    try:
        with out:
            result = run_loop(session, rig, say=out.say, progress=out.progress, hooks=hooks)
        st = session.state
        n_failed = sum(e.status == "failed" for e in st.completed)
        out.say(f"stopped: {result.reason}{' (' + result.detail + ')' if result.detail else ''}; "
                f"{plural(len(st.completed), 'experiment')} done, {n_failed} failed")
        out.say(best_line(session))
        out.say(_timing_line(session.timings))
        _best_conditions(session, out)
        if result.exit_code != 0:
            out.say(f"resume with: sdl resume {session.run_dir}")
        if notifier is not None:
            notifier.stopped(session, result)
            if notifier.failures:
                out.say(f"WARNING: {notifier.failures} notification(s) could not be sent "
                        "(see the log); the run itself is unaffected")
    finally:
        if notifier is not None:
            notifier.close()
        session.close()
    if not no_report:
        try:
            from sdl.report import write_report

            path = write_report(session.run_dir)
            out.say(f"report: {path}")
        except SdlError as e:  # the run itself is recorded; a report can be made later
            out.say(f"WARNING: report not written ({e}); try `sdl report {session.run_dir}`")
    return result.exit_code


def _timing_line(timings: dict[str, float]) -> str:
    total = sum(timings.values()) or 1.0
    parts = ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f} %)" for k, v in sorted(timings.items()))
    return f"time by stage: {parts}"


def _best_conditions(session, out) -> None:
    from sdl.utility import best_index

    scored = [e for e in session.state.completed if e.status == "scored"]
    i = best_index(session.campaign, [e.outcomes for e in scored], [e.conditions for e in scored])
    if i is not None:
        conds = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                          for k, v in scored[i].conditions.items())
        out.say(f"best conditions: {conds}")
