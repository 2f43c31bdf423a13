"""Driver registry: every driver, built-in or a lab's plugin, under its `driver = "..."` name.

One mechanism: Python entry points in the group `qd_sdl.drivers`. Each entry point names
a `DriverSpec` object (`package.module:DRIVER`); our own drivers are declared in our
pyproject.toml exactly like a plugin's (see README "Connect your own device"):

    [project.entry-points."qd_sdl.drivers"]
    thorlabs_sc10 = "hardware.drivers.sc10:DRIVER"

`DriverSpec` says which rig-file roles the driver can play, which capability Protocol
(`hardware.capabilities`) its class satisfies, how to open it from a rig-file device
(`open(device, ctx)`), how to probe it read-only for `sdl devices check` and how to
emulate it for `sdl emulate`. `check_device` runs when a rig file loads: unknown driver,
wrong role, unknown option or a class missing a Protocol member give one clear error.
`open_device` is the one role -> driver factory (FlowRig, `sdl devices check`).
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hardware.capabilities import missing_members
from hardware.retry import RetryPolicy

GROUP = "qd_sdl.drivers"


class DriverError(ValueError):
    """A rig-file device names a driver that cannot serve it (unknown, wrong role,
    missing Protocol member, bad option). A ValueError so pydantic reports it with the
    field path."""


@dataclass(frozen=True)
class OpenContext:
    """What a driver factory may use besides the rig-file device.

    Attributes:
        retry: retry policy for the driver's idempotent queries.
        timeout_s: reply deadline (overrides the device's `timeout_s` when not None).
        clock, sleep: rig clock (s) and a sleep on it (drivers that wait: photon folder).
        poll_s: polling interval of the rig, seconds.
        photon_reader: parses a photon file (path -> object with timestamps_ps, channels,
            sync_period_ps) for photon-folder drivers; the hardware layer decodes no photon
            files itself (`sdl.rigs` passes `sdl.analysis.photon_files.read_photon_file`).
    """

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float | None = None
    clock: Callable[[], float] | None = None
    sleep: Callable[[float], None] | None = None
    poll_s: float = 0.5
    photon_reader: Callable[[Any], Any] | None = None

    def timeout(self, device: Any) -> float:
        return float(self.timeout_s if self.timeout_s is not None else
                     getattr(device, "timeout_s", 1.0))


@dataclass(frozen=True)
class DriverSpec:
    """A driver's entry in the registry.

    Attributes:
        name: the rig file's `driver = "..."` value.
        roles: rig-file roles it can play.
        capability: the `typing.Protocol` its driver class satisfies.
        driver_class: the class `open` returns (checked against `capability` at load).
        transport: wire/protocol summary for `sdl devices list`.
        open: `open(device, ctx) -> driver` (the device is the rig-file model).
        probe: `probe(driver, device) -> str`: one read-only identity line (model, serial,
            firmware); must not move anything.
        emulator: `emulator(world, device) -> ByteDevice` for `sdl emulate`, or None.
        options: keys allowed in the device's `options` table, with their meaning.
        needs_port: the device must give `port` (False for USB by serial number, folders).
        check: `check(device) -> list[str]` of extra rig-file problems.
        source: manual and section the driver was written from.
    """

    name: str
    roles: tuple[str, ...]
    capability: type
    driver_class: type
    transport: str
    open: Callable[[Any, OpenContext], Any]
    probe: Callable[[Any, Any], str]
    emulator: Callable[[Any, Any], Any] | None = None
    options: dict[str, str] = field(default_factory=dict)
    needs_port: bool = True
    check: Callable[[Any], list[str]] | None = None
    source: str = ""


@dataclass(frozen=True)
class Registered:
    """A loaded spec and where it came from (`package`: distribution name)."""

    spec: DriverSpec
    package: str
    entry_point: str


_cache: dict[str, Registered] | None = None
_lock = threading.Lock()


def drivers(reload: bool = False) -> dict[str, Registered]:
    """All registered drivers by name (loaded once; `reload=True` after installing a
    plugin in this process). Raises DriverError when an entry point does not load or does
    not name a DriverSpec, or two packages register the same name."""
    global _cache
    with _lock:
        if _cache is not None and not reload:
            return _cache
        found: dict[str, Registered] = {}
        for ep in importlib.metadata.entry_points(group=GROUP):
            package = ep.dist.name if ep.dist is not None else "?"
            try:
                spec = ep.load()
            except Exception as e:  # noqa: BLE001 - a broken plugin names itself
                raise DriverError(f"driver {ep.name!r} from package {package} does not load "
                                  f"({ep.value}): {type(e).__name__}: {e}") from None
            if not isinstance(spec, DriverSpec):
                raise DriverError(f"entry point {ep.name!r} of {package} ({ep.value}) is not a "
                                  "hardware.registry.DriverSpec")
            if spec.name != ep.name:
                raise DriverError(f"entry point {ep.name!r} of {package} names driver "
                                  f"{spec.name!r}; the two must match")
            if spec.name in found and found[spec.name].package != package:
                raise DriverError(f"driver {spec.name!r} registered by both "
                                  f"{found[spec.name].package} and {package}")
            found[spec.name] = Registered(spec, package, ep.value)
        if not found:
            raise DriverError(f"no drivers registered in entry-point group {GROUP!r}: the "
                              "qd-sdl package is not installed (run `make install`)")
        _cache = found
        return found


def get(name: str) -> Registered:
    """The driver called `name`; DriverError listing the known ones otherwise."""
    table = drivers()
    if name not in table:
        raise DriverError(f"unknown driver {name!r}; registered: {', '.join(sorted(table))} "
                          f"(plugins register in entry-point group {GROUP!r})")
    return table[name]


def check_device(device: Any) -> None:
    """Raise DriverError (one message) if `device`'s driver cannot serve it."""
    reg = get(device.driver)
    spec = reg.spec
    if device.role not in spec.roles:
        raise DriverError(f"driver {spec.name!r} serves role(s) {', '.join(spec.roles)}, "
                          f"not {device.role!r}")
    missing = missing_members(spec.driver_class, spec.capability)
    if missing:
        raise DriverError(f"driver {spec.name!r} ({spec.driver_class.__qualname__} from "
                          f"{reg.package}) does not implement {spec.capability.__name__}: "
                          f"missing {', '.join(missing)}")
    unknown = sorted(set(getattr(device, "options", {}) or {}) - set(spec.options))
    if unknown:
        allowed = ", ".join(sorted(spec.options)) or "none"
        raise DriverError(f"unknown option(s) {', '.join(unknown)} for driver {spec.name!r}; "
                          f"allowed: {allowed}")
    if spec.needs_port and not getattr(device, "port", ""):
        raise DriverError(f"driver {spec.name!r} needs `port` (a pyserial URL)")
    if spec.check is not None:
        problems = spec.check(device)
        if problems:
            raise DriverError("; ".join(problems))


def open_device(device: Any, ctx: OpenContext | None = None) -> Any:
    """The one role -> driver factory: open the driver `device.driver` names."""
    return get(device.driver).spec.open(device, ctx or OpenContext())


def probe_device(device: Any, ctx: OpenContext | None = None) -> str:
    """Open `device`, return its read-only identity line, close it (HardwareError out)."""
    spec = get(device.driver).spec
    drv = spec.open(device, ctx or OpenContext())
    try:
        return spec.probe(drv, device)
    finally:
        close = getattr(drv, "close", None)
        if callable(close):
            close()


def listing() -> list[dict[str, Any]]:
    """`sdl devices list`: one row per driver (name, role, protocol, transport, package)."""
    rows = []
    for name, reg in sorted(drivers().items()):
        s = reg.spec
        rows.append({"name": name, "role": ", ".join(s.roles),
                     "protocol": s.capability.__name__, "transport": s.transport,
                     "package": reg.package, "entry_point": reg.entry_point,
                     "emulated": s.emulator is not None, "source": s.source,
                     "options": dict(s.options)})
    return rows
