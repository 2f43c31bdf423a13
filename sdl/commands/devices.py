"""`sdl devices check RIG.toml` and `sdl devices list`.

`check` probes every device of a rig file through the driver registry (the same
role -> driver factory FlowRig and `sdl emulate` use) and prints one line per device:
identity as the device reports it (model, serial, firmware) and status, or the error and
what to do; exits 0 only when every device answered, 3 otherwise. Probing only reads: no
pump moves, no setpoint changes, no shutter, relay or valve switched. A rig without an
optics device gets a NOTE: runs refuse it.

`list` prints every registered driver (entry-point group `qd_sdl.drivers`): name, roles,
capability protocol, transport and the package it comes from.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sdl.errors import HardwareUnavailable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="probe the devices of a rig file; list drivers")
    dsub = p.add_subparsers(dest="action", metavar="ACTION")
    dsub.required = True
    c = dsub.add_parser("check", help="probe each device; print identity and status")
    c.add_argument("rig", help="rig file (TOML)")
    c.add_argument("--timeout", type=float, default=None,
                   help="override every device's reply timeout, seconds")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(func=run)
    ls = dsub.add_parser("list", help="list every registered driver (built-in and plugins)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=list_drivers)


def probe(dev: Any, timeout_s: float | None = None) -> dict[str, Any]:
    """Probe one device through the driver registry's factory and its read-only probe;
    return {'name', 'role', 'driver', 'ok', 'detail'} (never raises HardwareError)."""
    from hardware.errors import HardwareError
    from hardware.registry import DriverError, OpenContext, probe_device
    from hardware.retry import RetryPolicy

    row = {"name": dev.name, "role": dev.role, "driver": dev.driver}
    from sdl.analysis.photon_files import read_photon_file

    ctx = OpenContext(retry=RetryPolicy(attempts=2), timeout_s=timeout_s,
                      photon_reader=read_photon_file)
    try:
        detail = probe_device(dev, ctx)
        if dev.role == "optics":
            detail += "; " + _optics_constants(dev)
        return {**row, "ok": True, "detail": detail}
    except HardwareError as e:
        return {**row, "ok": False, "detail": str(e)}
    except (ValueError, DriverError) as e:
        return {**row, "ok": False, "detail": f"{e}; next: fix the rig file"}


def _optics_constants(dev: Any) -> str:
    dye = (f"reference dye {dev.reference_dye}" if dev.reference_dye
           else "no reference dye (PLQY not measured)")
    return f"excitation {dev.excitation_nm:g} nm, {dye}"


def list_drivers(args: argparse.Namespace) -> int:
    """`sdl devices list [--json]`: every registered driver."""
    from hardware.registry import DriverError, listing

    try:
        rows = listing()
    except DriverError as e:
        raise HardwareUnavailable(str(e)) from None
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'DRIVER':22s} {'ROLE':44s} {'PROTOCOL':14s} {'PACKAGE':10s} TRANSPORT")
    for r in rows:
        print(f"{r['name']:22s} {r['role']:44s} {r['protocol']:14s} {r['package']:10s} "
              f"{r['transport']}")
    return 0


def run(args: argparse.Namespace) -> int:
    from sdl.schema.load import load_rig

    rig = load_rig(args.rig)
    results = [probe(d, args.timeout) for d in rig.devices]
    notes = []
    if not any(d.role == "optics" for d in rig.devices):
        notes.append("no optics device (light path): `sdl run --rig` refuses this rig; add "
                     "[[devices]] role = \"optics\" (see campaigns/rigs/example_rig.toml)")
    if args.json:
        print(json.dumps({"rig": rig.rig.name, "devices": results, "notes": notes}, indent=2))
    else:
        for r in results:
            print(f"{'OK  ' if r['ok'] else 'FAIL'} {r['name']:16s} {r['detail']}")
        for n in notes:
            print(f"NOTE {n}")
    failed = [r["name"] for r in results if not r["ok"]]
    if failed:
        raise HardwareUnavailable(f"{len(failed)} of {len(results)} devices did not answer: "
                                  f"{', '.join(failed)}")
    return 0
