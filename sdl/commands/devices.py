"""`sdl devices check RIG.toml`: probe every device of a rig file.

Prints one line per device (identity and status, or the error and what to do); exits 0
only when every device answered, 3 otherwise. Probing only reads: no pump moves, no
setpoint changes, the light path is not switched (its port is checked and its control
socket connected to). A rig without an optics device gets a NOTE: runs refuse it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sdl.errors import HardwareUnavailable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="probe the devices of a rig file")
    dsub = p.add_subparsers(dest="action", metavar="ACTION")
    dsub.required = True
    c = dsub.add_parser("check", help="probe each device; print identity and status")
    c.add_argument("rig", help="rig file (TOML)")
    c.add_argument("--timeout", type=float, default=None,
                   help="override every device's reply timeout, seconds")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(func=run)


def probe(dev: Any, timeout_s: float | None = None) -> dict[str, Any]:
    """Probe one device; return {'name', 'ok', 'detail'} (never raises HardwareError)."""
    from hardware.errors import HardwareError
    from hardware.retry import RetryPolicy

    t = timeout_s or getattr(dev, "timeout_s", 1.0)
    retry = RetryPolicy(attempts=2)
    driver = None
    try:
        if dev.role == "pump":
            from hardware.drivers.ne1000 import Ne1000Pump

            driver = Ne1000Pump(dev.port, dev.address, baud=dev.baud, timeout_s=t, retry=retry,
                                name=dev.name)
            version = driver.connect()
            state = driver.status()
            detail = f"{version}, address {dev.address}, {state.name.lower()}"
            if driver.last_alarm:
                detail += f" (cleared alarm {driver.last_alarm})"
        elif dev.role == "heater":
            from hardware.drivers.eurotherm3216 import Eurotherm3216

            driver = Eurotherm3216(dev.port, dev.address, baud=dev.baud, timeout_s=t, retry=retry,
                                   name=dev.name)
            ident = driver.instrument_id()
            status = driver.read_status()
            pv = "sensor break" if status.sensor_break else f"PV {driver.read_pv():.1f} C"
            flags = [n for n, on in (("manual", status.manual), ("loop break", status.loop_break))
                     if on]
            detail = f"instrument {ident:#06x}, slave {dev.address}, {pv}" + \
                (f", {', '.join(flags)}" if flags else "")
            if status.sensor_break:
                return {"name": dev.name, "ok": False, "detail": detail + "; next: check the thermocouple"}
        elif dev.role == "spectrometer":
            from hardware.drivers.ocean_obp import OceanObpSpectrometer

            driver = OceanObpSpectrometer(dev.port, baud=dev.baud, timeout_s=t, retry=retry,
                                          name=dev.name)
            serial = driver.serial_number()
            wl = driver.wavelengths()
            detail = f"serial {serial}, {len(wl)} px, {wl[0]:.1f}-{wl[-1]:.1f} nm"
        elif dev.role == "photon_timer":
            from hardware.drivers.photon_folder import PhotonFolder
            from sdl.analysis.photon_files import read_photon_file

            folder = PhotonFolder(dev.folder, reader=read_photon_file, settle_s=dev.settle_s,
                                  name=dev.name)
            folder.check()
            detail = f"folder {dev.folder} exists"
        elif dev.role == "optics":
            return _probe_optics(dev, timeout_s or dev.timeout_s)
        else:
            return {"name": dev.name, "ok": False,
                    "detail": f"role {dev.role!r} cannot be probed by this version"}
        return {"name": dev.name, "ok": True, "detail": detail}
    except HardwareError as e:
        return {"name": dev.name, "ok": False, "detail": str(e)}
    except ValueError as e:
        return {"name": dev.name, "ok": False, "detail": f"{e}; next: fix the rig file"}
    finally:
        if driver is not None:
            driver.close()


def _probe_optics(dev: Any, timeout_s: float) -> dict[str, Any]:
    """The light path (shutter, lamp/excitation, sample/solvent/reference selector): its
    port is checked and its control socket connected to, but nothing is switched (a run
    in progress may be measuring)."""
    import socket

    from hardware.errors import HardwareError
    from hardware.optics_path import BackchannelLightPath, open_light_path

    dye = (f"reference dye {dev.reference_dye}" if dev.reference_dye
           else "no reference dye (PLQY not measured)")
    consts = f"excitation {dev.excitation_nm:g} nm, {dye}"
    try:
        path = open_light_path(dev)
    except HardwareError as e:
        return {"name": dev.name, "ok": False, "detail": str(e)}
    try:
        if isinstance(path, BackchannelLightPath):
            try:
                with socket.create_connection((path.host, path.port), timeout=timeout_s):
                    pass
            except OSError as e:
                return {"name": dev.name, "ok": False,
                        "detail": f"light path: cannot reach the emulator control socket "
                                  f"{path.host}:{path.port} ({e}); next: start `sdl emulate` "
                                  "and use the rig file it writes (--write-rig)"}
            where = f"emulator control socket {path.host}:{path.port} answers"
        else:
            where = f"emulated world {dev.port}"
    finally:
        path.close()
    return {"name": dev.name, "ok": True,
            "detail": f"light path ({dev.driver}), {where}, not switched; {consts}"}


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
