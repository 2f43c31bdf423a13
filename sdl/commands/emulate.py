"""`sdl emulate RIG.toml --write-rig OUT.toml`: serve emulated devices for a rig file.

Starts one emulated line per port of the rig file on a real pseudo-terminal (several pump
addresses or heater slaves share a line, as on the bench), prints each device's port, and
writes a copy of the rig file whose ports point at the emulators (photon folder: a temp dir
the emulated tagger writes PTU files into). Runs in the foreground until Ctrl-C. Faults:
`--fault DEVICE:FAULT[=VALUE][@SECONDSs]` at start, or later through the control socket
(`echo pump_metal:stall | nc 127.0.0.1 PORT`).
"""

from __future__ import annotations

import argparse
import math
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sdl.errors import SdlError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emulate", help="serve emulated devices for a rig file (Ctrl-C to stop)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rig", help="rig file (TOML)")
    p.add_argument("--write-rig", required=True, metavar="OUT.toml",
                   help="write a rig file pointing at the emulated devices")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC",
                   help="inject a fault, e.g. pump_metal:stall@120s (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="noise / simulator seed")
    p.add_argument("--material", default="CdSe", help="simulator material")
    p.add_argument("--speed", type=float, default=1.0,
                   help="emulated seconds per real second (default 1)")
    p.add_argument("--control-port", type=int, default=0,
                   help="TCP port of the fault-injection socket on 127.0.0.1 (0 = any)")
    p.add_argument("--photon-period", type=float, default=30.0,
                   help="emulated seconds between photon files while pumps flow (0 = never)")
    p.add_argument("--duration", type=float, default=math.inf, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def rig_to_toml(data: dict[str, Any]) -> str:
    """Serialise a rig-file dict (tables of scalars + [[devices]]) as TOML."""
    lines = ["# Written by `sdl emulate`: ports point at emulated devices."]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in value.items() if v is not None]
    for dev in data.get("devices", []):
        lines.append("\n[[devices]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in dev.items() if v is not None]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from hardware.emulators.control import ControlServer
    from hardware.emulators.rig_emulator import EmulatedRig, parse_fault_spec
    from hardware.emulators.world import WallClock
    from sdl.analysis.photon_files import write_ptu
    from sdl.schema.load import load_rig

    rig = load_rig(args.rig)
    if args.speed <= 0:
        raise SdlError(f"--speed must be > 0, got {args.speed}")
    try:
        faults = [parse_fault_spec(s) for s in args.fault]
    except ValueError as e:
        raise SdlError(str(e)) from None
    out = Path(args.write_rig)
    if not out.parent.is_dir():
        raise SdlError(f"--write-rig {out}: directory {out.parent} does not exist")
    def _terminate(signum, frame):  # SIGTERM stops like Ctrl-C: ports and temp dir cleaned up
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    workdir = tempfile.TemporaryDirectory(prefix="sdl-emulate-")
    photons = Path(workdir.name) / "photons"
    photons.mkdir()
    emu = EmulatedRig(rig, clock=WallClock(args.speed), seed=args.seed, material=args.material,
                      photon_folder=photons, photon_writer=write_ptu)
    control = None
    try:
        for f in faults:
            try:
                emu.apply(f)
            except ValueError as e:
                raise SdlError(f"--fault {f.device}:{f.fault}: {e}") from None
        urls = emu.start("pty", link_dir=workdir.name)
        control = ControlServer(emu, args.control_port).start()
        data = rig.model_dump(mode="python")
        for dev in data["devices"]:
            if dev["name"] in urls:
                dev["port"] = urls[dev["name"]]
            elif dev["role"] == "photon_timer":
                dev["folder"] = str(photons)
            elif dev["role"] == "optics":  # light path: switched through the control socket
                dev["port"] = f"tcp://127.0.0.1:{control.port}"
                if "time_scale" in dev:
                    dev["time_scale"] = args.speed
        out.write_text(rig_to_toml(data), encoding="utf-8")
        for name, url in urls.items():
            print(f"{name:16s} {url}")
        if emu.tagger is not None:
            print(f"{emu.tagger.name:16s} {photons}")
        print(f"rig file: {out}")
        print(f"control:  127.0.0.1:{control.port}  (send lines like 'pump_metal:stall', "
              "'optics:dark')")
        print("emulating; Ctrl-C to stop", flush=True)
        t_end = time.monotonic() + args.duration
        next_photons = args.photon_period
        while time.monotonic() < t_end:
            time.sleep(0.1)
            emu.poll()
            if emu.tagger is not None and args.photon_period > 0 and emu.world.now() >= next_photons:
                next_photons = emu.world.now() + args.photon_period
                if sum(emu.world.inlet_flows_ul_min().values()) > 0:
                    emu.tagger.acquire(1.0)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        if control is not None:
            control.stop()
        emu.stop()
        workdir.cleanup()
    return 0
