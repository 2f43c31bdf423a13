"""Build emulated devices for every device in a rig file, and inject faults by name.

Devices that share a port in the rig file share one emulated line (`Wire`): several
NE-1000 addresses on one daisy-chained bus, several Eurotherms on one Modbus line.
Fault specs look like `pump_metal:stall@120s`, `sts:not_ready=3`, `heater_core:no_reply`:
`DEVICE:FAULT[=VALUE][@TIME[s]]`.

Fault -> what the real driver reports (each checked in tests/hardware/emulators):
  any line   no_reply[=n]        DeviceTimeout (queries: retried by RetryPolicy)
             late_reply=s        DeviceTimeout, late bytes flushed before the next command
             stale_bytes         nothing: flushed before the next command
             truncated[=n]       ProtocolError (raw = the partial frame)
             bad_crc[=n]         ChecksumError (NE-1000 safe mode, Modbus, OBP MD5)
             noise[=n]           nothing: framers skip bytes before the frame
             vanish / restore    PortUnavailable; the next command reopens the same path
  pump       stall[=after_ul]    DeviceAlarm(code="S") once it stalls
             empty[=left_ul]     DeviceAlarm(code="S") when the syringe runs dry
             occlusion[=bar/ul]  pressure rises, then DeviceAlarm(code="S")
             power_cycle         first command ignored (DeviceTimeout), then DeviceAlarm("R");
                                 Ne1000Pump.connect() absorbs both
             watchdog            DeviceAlarm(code="T") (also sent unprompted in safe mode)
             oor[=n] / na[=n]    CommandRejected(code="?OOR" / "?NA")
  heater     sensor_break        read_pv() -> DeviceAlarm("sensor_break"); check() too
             heater_failure      PV stays cold; after ~2 min check() -> DeviceAlarm("loop_break")
             runaway             PV climbs past the setpoint (interlocks must catch it)
             slow_settling[=k]   plant time constant x k
             overshoot[=k]       dead time x k: the PID overshoots and rings
             modbus_exception=c  CommandRejected(code=c)
             manual[=out%]       check() -> DeviceAlarm("manual"); set_auto() recovers
  spectrometer saturation        counts clip at 16383
             lamp_failure        lamp spectra fall to the dark level
             bubbles[=scans]     light lost / scattered for n scans
             dark_drift[=c/s]    dark level rises with time
             not_ready[=n]       CommandRejected(code=7)
             reset               CommandRejected(code=9); integration time back to default
  shutter    stuck[=1|0]         SC10: stays where it is -> read-back disagrees ->
  (SC10)                         LightPathUnconfirmed: experiment FAILED interlock
                                 light_path_unconfirmed (campaign goes on; safe state)
             interlock[=1|0]     shutter closes and cannot open: same as stuck when opening
  valve      wrong_position[=n]  VICI: next n moves land one position on -> the light path
  (VICI)                         re-commands once (RetryPolicy): n=1 ends in a retry;
                                 n>=2 fails the experiment (light_path_unconfirmed)
  relay box  stuck[=1|0]         Numato: channel no longer switches -> light_path_unconfirmed
  (Numato)
  any of the no_answer[=n]       reply lost, command executed: DeviceTimeout, retried by
  three                          RetryPolicy; n >= attempts: interlock lost_heartbeat,
                                 reconnect, experiment failed, campaign goes on
             garbled[=n]         one byte of the reply replaced: ProtocolError, retried
             power_cycle         power-on defaults (shutter closed, relays off; valve keeps
                                 its position), first command lost: retried; the
                                 read-back then re-commands what power-up undid
  Harvard pump: stall/empty/occlusion/oor/na as the NE-1000 (prompt '*' ->
             DeviceAlarm("S"); "Argument error" / "Command error" -> CommandRejected);
             power_cycle: pump stops, first command lost -> interlock pump_stopped
  photon_timer acquire[=s]       writes one PTU file now
  optics     lamp|excitation|dark|sample|solvent|reference   (controls, not faults)
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardware.emulators.eurotherm import Eurotherm3216Emulator
from hardware.emulators.ne1000 import Ne1000Emulator
from hardware.emulators.numato import NumatoEmulator
from hardware.emulators.ocean import ObpSpectrometerEmulator
from hardware.emulators.pty_server import PtyServer
from hardware.emulators.sc10 import Sc10Emulator
from hardware.emulators.socket_server import SocketServer
from hardware.emulators.tagger import TaggerEmulator
from hardware.emulators.vici import ViciEmulator
from hardware.emulators.wire import TRANSPORT_FAULTS, Wire, register_wire, unregister_wire
from hardware.emulators.world import Clock, EmulatedWorld
from hardware.registry import get as get_driver

Fault = Callable[[Any, "float | None"], None]


def _opt(v: float | None, default: float) -> float:
    return default if v is None else v


PUMP_FAULTS: dict[str, Fault] = {
    "stall": lambda d, v: d.stall(_opt(v, 0.0)),
    "empty": lambda d, v: d.empty_syringe(_opt(v, 0.0)),
    "power_cycle": lambda d, v: d.power_cycle(),
    "watchdog": lambda d, v: d.trip_watchdog(),
    "oor": lambda d, v: d.reject_next("?OOR", int(_opt(v, 1))),
    "na": lambda d, v: d.reject_next("?NA", int(_opt(v, 1))),
    "occlusion": lambda d, v: d.occlude(_opt(v, 0.05)),
    "clear_occlusion": lambda d, v: d.clear_occlusion(),
}
HEATER_FAULTS: dict[str, Fault] = {
    "sensor_break": lambda d, v: d.break_sensor(True),
    "heater_failure": lambda d, v: d.fail_heater(True),
    "runaway": lambda d, v: d.run_away(True),
    "slow_settling": lambda d, v: d.slow_settling(_opt(v, 5.0)),
    "overshoot": lambda d, v: d.overshoot(_opt(v, 8.0)),
    "modbus_exception": lambda d, v: d.modbus_exception(int(_opt(v, 2))),
    "manual": lambda d, v: d.switch_to_manual(_opt(v, 0.0)),
}
SPECTROMETER_FAULTS: dict[str, Fault] = {
    "saturation": lambda d, v: d.saturate(True),
    "lamp_failure": lambda d, v: d.fail_lamp(True),
    "bubbles": lambda d, v: d.bubbles(int(_opt(v, 3))),
    "dark_drift": lambda d, v: d.drift_dark(_opt(v, 0.5)),
    "not_ready": lambda d, v: d.make_not_ready(int(_opt(v, 1))),
    "reset": lambda d, v: d.reset_unexpectedly(),
}
_LINE_FAULTS: dict[str, Fault] = {
    "no_answer": lambda d, v: d.no_answer(int(_opt(v, 1))),
    "garbled": lambda d, v: d.garble(int(_opt(v, 1))),
    "power_cycle": lambda d, v: d.power_cycle(),
}
SHUTTER_FAULTS: dict[str, Fault] = {
    **_LINE_FAULTS,
    "stuck": lambda d, v: d.stick(bool(_opt(v, 1))),
    "interlock": lambda d, v: d.trip_interlock(bool(_opt(v, 1))),
}
VALVE_FAULTS: dict[str, Fault] = {
    **_LINE_FAULTS,
    "wrong_position": lambda d, v: d.land_wrong(int(_opt(v, 1))),
}
RELAY_FAULTS: dict[str, Fault] = {
    **_LINE_FAULTS,
    "stuck": lambda d, v: d.stick(bool(_opt(v, 1))),
}
# Not faults: the light path and cell selector (shutter / lamp / valve, outside the three
# serial protocols), reached as device "optics" (or the rig's optics-role device), e.g.
# `optics:dark`, `optics:solvent` - what `hardware.optics_path.BackchannelLightPath` sends.
OPTICS_CONTROLS: dict[str, Fault] = {
    "lamp": lambda d, v: setattr(d.world, "light", "lamp"),
    "excitation": lambda d, v: setattr(d.world, "light", "excitation"),
    "dark": lambda d, v: setattr(d.world, "light", "dark"),
    "sample": lambda d, v: setattr(d.world, "cell", "sample"),
    "solvent": lambda d, v: setattr(d.world, "cell", "solvent"),
    "reference": lambda d, v: setattr(d.world, "cell", "reference"),
}
OPTICS_DEVICE = "optics"


class OpticsEmulator:
    """The emulated light path and cell selector: switches `world.light` / `world.cell`."""

    def __init__(self, world: EmulatedWorld):
        self.world = world


_instances = itertools.count()
_SPEC = re.compile(r"^([A-Za-z0-9_-]+):([a-z_]+)(?:=([-+0-9.eE]+))?(?:@([0-9.]+)s?)?$")


@dataclass(frozen=True)
class FaultSpec:
    """A parsed `DEVICE:FAULT[=VALUE][@TIME[s]]`."""

    device: str
    fault: str
    value: float | None = None
    at_s: float | None = None


def parse_fault_spec(text: str) -> FaultSpec:
    """Parse a fault spec; ValueError with the allowed form on a bad one."""
    m = _SPEC.match(text.strip())
    if not m:
        raise ValueError(f"bad fault spec {text!r}; expected DEVICE:FAULT[=VALUE][@SECONDSs], "
                         "e.g. pump_metal:stall@120s")
    return FaultSpec(m.group(1), m.group(2), float(m.group(3)) if m.group(3) else None,
                     float(m.group(4)) if m.group(4) else None)


class EmulatedRig:
    """All emulated devices of one rig file, sharing one `EmulatedWorld`.

    Args:
        rig: a validated `sdl.schema.rig.RigFile`.
        clock: time source for the world.
        seed: noise / simulator seed.
        material: simulator material.
        photon_folder: where the emulated tagger writes (default: a new temp dir).

    Attributes:
        world: the shared world. devices: name -> emulator object. wires: port -> Wire.
        urls: device name -> URL to open (set by `start`).
    """

    def __init__(self, rig, *, clock: Clock | None = None, seed: int = 0, material: str = "CdSe",
                 photon_folder: str | Path | None = None,
                 photon_writer: Callable[..., Any] | None = None):
        self.rig = rig
        self.world = EmulatedWorld(clock, material=material, reactor_volume_ul=rig.reactor.volume_ul,
                                   seed=seed)
        self.devices: dict[str, Any] = {}
        self.wires: dict[str, Wire] = {}
        self.port_of: dict[str, str] = {}
        self.urls: dict[str, str] = {}
        self.servers: list[PtyServer | SocketServer] = []
        self.tagger: TaggerEmulator | None = None
        self.optics = OpticsEmulator(self.world)
        self._registered: list[Wire] = []
        self._tmp: tempfile.TemporaryDirectory | None = None
        buses: dict[str, Any] = {}
        tag = next(_instances)
        for dev in rig.devices:
            if dev.role == "optics":
                self.devices[dev.name] = self.optics
                if dev.reference_dye:  # emulate the dye the rig file declares
                    self.world.reference_overrides = {
                        "reference_plqy": dev.reference_plqy,
                        "reference_absorbance": dev.reference_absorbance,
                        "reference_solvent_index": dev.reference_solvent_index}
                continue
            if dev.role == "photon_timer":
                if photon_folder is None:
                    self._tmp = tempfile.TemporaryDirectory(prefix="sdl-emu-photons-")
                    photon_folder = self._tmp.name
                if photon_writer is None:
                    raise ValueError(f"{dev.name}: an emulated photon_timer needs a photon-file "
                                     "writer (EmulatedRig(photon_writer=...))")
                self.tagger = TaggerEmulator(self.world, photon_folder, writer=photon_writer,
                                             name=dev.name)
                self.devices[dev.name] = self.tagger
                continue
            spec = get_driver(dev.driver).spec
            if spec.emulator is None:
                raise ValueError(f"{dev.name}: driver {dev.driver!r} has no emulator "
                                 f"({spec.transport}); use a serial driver to rehearse")
            bus, self.devices[dev.name] = spec.emulator(self.world, dev, buses.get(dev.port))
            if dev.port not in buses:
                buses[dev.port] = bus
                self.wires[dev.port] = Wire(f"{rig.rig.name}-{tag}-line{len(self.wires)}", bus)
            self.port_of[dev.name] = dev.port

    # -- transports ------------------------------------------------------------------------
    def start(self, transport: str = "emu", link_dir: str | Path | None = None) -> dict[str, str]:
        """Serve every line; return device name -> URL/path.

        Args:
            transport: "emu" (in-process `emu://` URLs), "pty" (real pseudo-terminals) or
                "socket" (`socket://127.0.0.1:PORT`).
            link_dir: for "pty", directory for stable symlinks (port-vanish needs them).
        """
        port_url: dict[str, str] = {}
        if transport in ("pty", "socket"):  # served in real time to another process
            self.world.warm_up()
        for j, (port, wire) in enumerate(self.wires.items()):
            if transport == "emu":
                port_url[port] = register_wire(wire)
                self._registered.append(wire)
            elif transport == "pty":
                link = Path(link_dir) / f"emu-line{j}" if link_dir else None
                server = PtyServer(wire, link).start()
                self.servers.append(server)
                port_url[port] = server.path
            elif transport == "socket":
                server = SocketServer(wire).start()
                self.servers.append(server)
                port_url[port] = server.path
            else:
                raise ValueError(f"transport must be 'emu', 'pty' or 'socket', got {transport!r}")
        self.urls = {name: port_url[port] for name, port in self.port_of.items()}
        return dict(self.urls)

    def stop(self) -> None:
        for s in self.servers:
            s.stop()
        self.servers.clear()
        for w in self._registered:
            unregister_wire(w)
        self._registered.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmulatedRig:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def poll(self) -> int:
        """Fire due scheduled faults and send unprompted device packets; return how many."""
        self.world.tick()
        n = 0
        for wire in self.wires.values():
            poll = getattr(wire.device, "poll", None)
            if poll is not None:
                for packet in poll():
                    wire.push(packet)
                    n += 1
        return n

    # -- faults ----------------------------------------------------------------------------
    def wire_of(self, device: str) -> Wire:
        return self.wires[self.port_of[device]]

    def inject(self, device: str, fault: str, value: float | None = None) -> None:
        """Apply fault `fault` to `device` now (see the *_FAULTS tables and transport faults)."""
        if device == OPTICS_DEVICE or self.devices.get(device) is self.optics:
            if fault not in OPTICS_CONTROLS:
                raise ValueError(f"unknown optics setting {fault!r}; allowed: "
                                 f"{', '.join(OPTICS_CONTROLS)}")
            with self.world.lock:
                OPTICS_CONTROLS[fault](self.optics, value)
            return
        if device not in self.devices:
            raise ValueError(f"unknown device {device!r}; devices: {sorted(self.devices)}")
        emu = self.devices[device]
        if fault in TRANSPORT_FAULTS or fault == "restore":
            if device not in self.port_of:
                raise ValueError(f"{device} has no serial line")
            wire = self.wire_of(device)
            if fault == "restore":
                wire.restore()
            elif fault == "late_reply":
                wire.inject(fault, delay_s=_opt(value, 2.0))
            else:
                wire.inject(fault, count=int(_opt(value, 1)))
            return
        if device == getattr(self.tagger, "name", None) and fault == "acquire":
            self.tagger.acquire(_opt(value, 1.0))
            return
        table = (PUMP_FAULTS if isinstance(emu, Ne1000Emulator) else
                 HEATER_FAULTS if isinstance(emu, Eurotherm3216Emulator) else
                 SPECTROMETER_FAULTS if isinstance(emu, ObpSpectrometerEmulator) else
                 SHUTTER_FAULTS if isinstance(emu, Sc10Emulator) else
                 VALVE_FAULTS if isinstance(emu, ViciEmulator) else
                 RELAY_FAULTS if isinstance(emu, NumatoEmulator) else {})
        if fault not in table:
            allowed = sorted(table) + sorted(TRANSPORT_FAULTS) + ["restore"]
            raise ValueError(f"unknown fault {fault!r} for {device}; allowed: {', '.join(allowed)}")
        with self.world.lock:
            table[fault](emu, value)

    def apply(self, spec: FaultSpec) -> None:
        """Apply now, or schedule at `spec.at_s` on the world clock."""
        self.inject(spec.device, spec.fault, spec.value) if spec.at_s is None else None
        if spec.at_s is not None:
            if spec.device not in self.devices and spec.device != OPTICS_DEVICE:
                raise ValueError(f"unknown device {spec.device!r}; devices: {sorted(self.devices)}")
            self.world.schedule(spec.at_s, lambda: self.inject(spec.device, spec.fault, spec.value))
