"""`sdl resume DIR`: continue a run after a crash, kill -9 or Ctrl-C.

No experiment is lost and none is counted twice: see `sdl.loop.recover`.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("resume", help="continue a run after a crash or interruption")
    p.add_argument("run_dir", help="run directory")
    p.add_argument("--fallback-to-simulator", action="store_true",
                   help="for hardware runs: use the simulator if a device is missing")
    p.add_argument("--no-report", action="store_true", help="skip writing report.html")
    from sdl.commands.run import add_notify_args

    add_notify_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sdl.commands.run import finish, make_notifier
    from sdl.console import LoopConsole
    from sdl.errors import HardwareUnavailable
    from sdl.rigs import hardware_rig, simulated_rig
    from sdl.rundir import RIG_NAME
    from sdl.session import Session
    from sdl.state import run_phase

    session = Session.open(args.run_dir)
    notifier = None
    try:
        st = session.state
        phase = run_phase(st, live=False)
        out = LoopConsole(total=session.budget, done=len(st.completed))
        if phase == "complete":
            out.say(f"{args.run_dir}: run already complete ({st.stopped.get('reason')}); nothing to do")
            session.close()
            return 0
        kind = st.started.get("rig_kind", "simulator")
        if kind == "flowrig":
            try:
                rig = hardware_rig(session.run_dir / RIG_NAME,
                                   material=session.campaign.campaign.material)
                out.say(f"Resuming '{session.campaign.name}' on the rig in {session.run_dir / RIG_NAME}")
            except HardwareUnavailable as e:
                if not args.fallback_to_simulator:
                    raise
                rig = simulated_rig(session.campaign)
                out.say(f"!!! SIMULATING: {e}; --fallback-to-simulator given. NO DEVICE WILL MOVE. !!!")
        else:
            rig = simulated_rig(session.campaign)
            out.say(f"Resuming '{session.campaign.name}' on the built-in simulator")
        notifier = make_notifier(args, session.campaign.name)
        session.resumed(previous_phase=phase, experiments_completed=len(st.completed),
                        unfinished=[e.experiment_id for e in st.unfinished])
    except BaseException:
        session.close()
        raise
    return finish(session, rig, out, args.no_report, notifier)
