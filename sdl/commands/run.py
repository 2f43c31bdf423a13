"""`sdl run CAMPAIGN.toml [--rig RIG.toml] [--out DIR] [--budget N]`: run a campaign.

Without --rig the campaign runs on the built-in simulator and says so in its first line.
With --rig it drives the devices and never falls back silently: a missing device stops
the run unless --fallback-to-simulator was given (and then it says so loudly).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a campaign (simulator by default, --rig for hardware)")
    p.add_argument("campaign", help="campaign TOML file")
    p.add_argument("--rig", help="rig TOML file (devices); omit to use the simulator")
    p.add_argument("--out", help="run directory to create (default runs/<name>-<utc>)")
    p.add_argument("--runs-dir", default="runs", help="parent of new run directories")
    p.add_argument("--budget", type=_positive_int, help="override the experiment budget")
    p.add_argument("--fallback-to-simulator", action="store_true",
                   help="with --rig: use the simulator if a device is missing")
    p.add_argument("--no-report", action="store_true", help="skip writing report.html")
    add_notify_args(p)
    p.set_defaults(func=run)


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


def _positive_int(text: str) -> int:
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
    from sdl.rigs import hardware_rig, simulated_rig
    from sdl.schema.load import load_campaign, load_rig

    campaign = load_campaign(args.campaign)  # validate before creating anything
    notifier = make_notifier(args, campaign.name)
    out = LoopConsole(total=args.budget or campaign.budget.experiments)
    if args.rig:
        load_rig(args.rig)
        try:
            rig = hardware_rig(args.rig, material=campaign.campaign.material)
            rig_kind = "flowrig"
            first = f"Running '{campaign.name}' on the rig in {args.rig}"
        except HardwareUnavailable as e:
            if not args.fallback_to_simulator:
                raise
            rig = simulated_rig(campaign)
            rig_kind = "simulator-fallback"
            first = (f"!!! SIMULATING: the rig in {args.rig} is not available ({e}); "
                     f"--fallback-to-simulator given, so '{campaign.name}' runs on the "
                     "built-in simulator. NO DEVICE WILL MOVE. !!!")
    else:
        rig = simulated_rig(campaign)
        rig_kind = "simulator"
        first = (f"Running '{campaign.name}' on the built-in simulator (no --rig given; "
                 f"material {campaign.campaign.material})")
    out.say(first)
    return _drive(args.campaign, rig, rig_kind, args, out, notifier)


def _drive(campaign_path, rig, rig_kind, args, out, notifier=None) -> int:
    from sdl.session import Session

    session = Session.create(campaign_path, out=args.out, base=args.runs_dir,
                             rig_path=args.rig, rig_kind=rig_kind, budget=args.budget)
    out.say(f"run directory: {session.run_dir}")
    return finish(session, rig, out, args.no_report, notifier)


def finish(session, rig, out, no_report: bool, notifier=None) -> int:
    """Run the loop on an open session, then summarise; shared by run and resume."""
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
                f"{len(st.completed)} experiments done, {n_failed} failed")
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
    i = best_index(session.campaign, [e.outcomes for e in scored])
    if i is not None:
        conds = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                          for k, v in scored[i].conditions.items())
        out.say(f"best conditions: {conds}")
