"""`sdl devices check RIG.toml`: probe every device of a rig file.

Prints one line per device (identity and status, or the error and what to do); exits 0
only when every device answered, 3 otherwise. Probing only reads: no pump moves, no
setpoint changes.
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
        else:
            from hardware.drivers.photon_folder import PhotonFolder

            folder = PhotonFolder(dev.folder, settle_s=dev.settle_s, name=dev.name)
            folder.check()
            detail = f"folder {dev.folder} exists"
        return {"name": dev.name, "ok": True, "detail": detail}
    except HardwareError as e:
        return {"name": dev.name, "ok": False, "detail": str(e)}
    except ValueError as e:
        return {"name": dev.name, "ok": False, "detail": f"{e}; next: fix the rig file"}
    finally:
        if driver is not None:
            driver.close()


def run(args: argparse.Namespace) -> int:
    from sdl.schema.load import load_rig

    rig = load_rig(args.rig)
    results = [probe(d, args.timeout) for d in rig.devices]
    if args.json:
        print(json.dumps({"rig": rig.rig.name, "devices": results}, indent=2))
    else:
        for r in results:
            print(f"{'OK  ' if r['ok'] else 'FAIL'} {r['name']:16s} {r['detail']}")
    failed = [r["name"] for r in results if not r["ok"]]
    if failed:
        raise HardwareUnavailable(f"{len(failed)} of {len(results)} devices did not answer: "
                                  f"{', '.join(failed)}")
    return 0
