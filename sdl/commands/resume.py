"""`sdl resume DIR [--rig NEW.toml] [--budget N]`: continue a run after a crash, kill -9 or
Ctrl-C, or extend a finished one.

No experiment is lost and none is counted twice: see `sdl.loop.recover`. The run goes on
with the same kind of driver that made it (`sdl.provenance`): a simulator run on the
simulator, a hardware run on its recorded rig file (or, with `--rig NEW.toml`, on a new
one, recorded as `rig_changed`). A run driven from Python (ask/tell API) is refused with
one line saying how to continue it; nothing is appended to its record.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = """examples:
  sdl resume runs/try1                      continue after a crash, kill -9 or Ctrl-C
  sdl resume runs/try1 --budget 30          extend a finished run to 30 experiments
  sdl resume runs/night --rig new_rig.toml  continue a hardware run on a changed rig
"""


def register(sub: argparse._SubParsersAction) -> None:
    from sdl.commands.run import positive_int

    p = sub.add_parser(
        "resume", help="continue a run after a crash or interruption, or extend it",
        description="Continue a run with the same kind of driver that made it. No "
        "experiment is lost or counted twice.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", help="run directory (made by `sdl run`)")
    p.add_argument("--rig", metavar="NEW.toml",
                   help="hardware runs: continue on this rig file instead of the recorded "
                   "one (recorded as a rig change)")
    p.add_argument("--budget", type=positive_int, metavar="N",
                   help="raise the run's experiment budget to N in total (recorded); "
                   "continues a finished run")
    p.add_argument("--fallback-to-simulator", action="store_true",
                   help="hardware runs: use the simulator if a device is missing (recorded)")
    p.add_argument("--no-report", action="store_true", help="skip writing report.html")
    from sdl.commands.run import add_notify_args

    add_notify_args(p)
    p.set_defaults(func=run)


def refusal(state, run_dir, rig: str | None) -> str | None:
    """Why `sdl resume` must not continue this run (one line), or None."""
    from sdl.provenance import driver_of_started

    kind = driver_of_started(state.started).get("kind")
    if kind == "external":
        return (f"{run_dir} is driven from Python (ask/tell API), not by `sdl run`; continue "
                f"it there with `Campaign.resume({str(run_dir)!r})` from sdl.api (nothing "
                "was changed)")
    if kind == "simulator" and rig:
        return (f"{run_dir} was run on the built-in simulator; it cannot continue on the rig "
                f"in {rig} (start a new run with `sdl run CAMPAIGN --rig {rig}`; nothing "
                "was changed)")
    return None


def run(args: argparse.Namespace) -> int:
    from sdl.errors import ResumeRefused
    from sdl.record import Record
    from sdl.rundir import RECORD_NAME, require_run_dir
    from sdl.state import fold

    run_dir = require_run_dir(args.run_dir)
    with Record(run_dir / RECORD_NAME, readonly=True) as rec:  # decide before writing
        why = refusal(fold(rec.events()), args.run_dir, args.rig)
    if why:
        raise ResumeRefused(why)
    return _resume(args, run_dir)


def _resume(args: argparse.Namespace, run_dir) -> int:
    from sdl.commands.run import finish, make_notifier
    from sdl.console import LoopConsole
    from sdl.session import Session
    from sdl.state import run_phase

    session = Session.open(run_dir)
    notifier = None
    try:
        st = session.state
        phase = run_phase(st, live=False)
        out = LoopConsole(total=args.budget or session.budget, done=len(st.completed))
        if session.lock_note:
            out.say(session.lock_note)
        if phase == "complete" and args.budget is None:
            reason = st.stopped.get("reason")
            out.say(f"{args.run_dir}: run already complete ({reason}); nothing to do "
                    f"(to run more experiments: sdl resume {args.run_dir} --budget N)")
            session.close()
            return 0
        if args.budget is not None:
            _check_extension(session, args, phase)
        rig, driver, first = _attach(session, args, out)
        if args.budget is not None:
            old = session.budget
            session.extend_budget(args.budget, by="sdl resume --budget")
            out.say(f"budget extended from {old} to {args.budget} experiments")
        out.say(first)
        notifier = make_notifier(args, session.campaign.name)
        session.resumed(driver=driver, previous_phase=phase)
    except BaseException:
        session.close()
        raise
    return finish(session, rig, out, args.no_report, notifier)


def _check_extension(session, args, phase: str) -> None:
    from sdl.errors import RecordError

    st = session.state
    reason = (st.stopped or {}).get("reason")
    if phase == "complete" and reason in ("hours", "target_reached"):
        why = ("its time budget is used up" if reason == "hours"
               else "its target was reached and the campaign stops there")
        raise RecordError(f"{args.run_dir} stopped because {why}; more experiments would stop "
                          "at once (start a new run to go on)")
    if args.budget <= session.budget:
        raise RecordError(f"--budget {args.budget} is not above this run's budget of "
                          f"{session.budget}; give the new total, e.g. --budget "
                          f"{session.budget + 10}")


def _attach(session, args, out):
    """(rig, driver, first line) for the run's kind of driver; records a rig change."""
    from sdl.errors import HardwareUnavailable, ResumeRefused
    from sdl.provenance import (
        describe,
        expected_rig,
        hardware_driver,
        sha256_bytes,
        simulator_driver,
    )
    from sdl.rigs import hardware_rig, simulated_rig
    from sdl.rundir import RIG_NAME
    from sdl.schema.load import load_rig

    campaign = session.campaign
    material, seed = campaign.campaign.material, campaign.seed
    run_driver = session.driver
    kind = run_driver.get("kind")
    if kind != "hardware":
        rig = simulated_rig(campaign)
        if kind == "unknown":
            out.say("note: this record predates provenance (what drove it is unknown); "
                    "continuing on the built-in simulator")
        return rig, simulator_driver(material, seed), (
            f"Resuming '{campaign.name}' on the built-in simulator (material {material}, "
            f"seed {seed})")
    _, sha, _ = expected_rig(session.record.events())
    recorded = session.run_dir / RIG_NAME
    if args.rig:
        load_rig(args.rig)
        rig_path = args.rig
    else:
        now = sha256_bytes(recorded.read_bytes()) if recorded.exists() else None
        if sha is not None and now != sha:
            what = "is missing" if now is None else f"differs from the recorded one (sha256 {now[:12]}, recorded {sha[:12]})"
            raise ResumeRefused(
                f"{recorded} {what}; to continue on another rig give it explicitly: "
                f"sdl resume {args.run_dir} --rig NEW.toml (recorded as a rig change)")
        rig_path = recorded
    rig_bytes = Path(rig_path).read_bytes()
    try:
        rig = hardware_rig(rig_path, material=material)
    except HardwareUnavailable as e:
        if not args.fallback_to_simulator:
            raise
        out.say(f"!!! SIMULATING: {e}; --fallback-to-simulator given. NO DEVICE WILL MOVE. !!!")
        return simulated_rig(campaign), simulator_driver(
            material, seed, fallback_for_rig_sha256=sha256_bytes(rig_bytes),
            fallback_reason=f"--fallback-to-simulator: {e}"), f"Resuming '{campaign.name}' on the built-in simulator"
    from sdl.rigs import device_identities
    from sdl.schema.load import rig_name

    name = rig_name(rig_bytes)
    if args.rig and sha256_bytes(rig_bytes) != sha:
        session.rig_changed(rig_bytes, name, reason=f"sdl resume --rig {args.rig}")
        out.say(f"rig change recorded: {args.rig} (sha256 {sha256_bytes(rig_bytes)[:12]}) "
                f"replaces {sha[:12] if sha else 'the recorded rig'}")
    driver = hardware_driver(rig_bytes, name, device_identities(rig))
    return rig, driver, f"Resuming '{campaign.name}' on the {describe(driver)} in {rig_path}"
