"""Registry entries (`DriverSpec`) of the first-wave drivers and of the light path.

Declared in pyproject.toml under `[project.entry-points."qd_sdl.drivers"]` like any
plugin. Each entry: how to open the driver from a rig-file device, a read-only probe for
`sdl devices check` (nothing moves, no setpoint written, no light switched) and how
`sdl emulate` emulates it. The grammar and sources stay in the driver modules.
"""

from __future__ import annotations

from typing import Any

from hardware.capabilities import Heater, PhotonCounter, Pump, Spectrometer
from hardware.drivers.eurotherm3216 import Eurotherm3216
from hardware.drivers.ne1000 import Ne1000Pump
from hardware.drivers.ocean_obp import OceanObpSpectrometer
from hardware.drivers.photon_folder import PhotonFolder
from hardware.errors import DeviceAlarm
from hardware.optics_path import BackchannelLightPath
from hardware.registry import DriverSpec, OpenContext
from sdl.vocab.rig import LightPath


# -- NE-1000 -----------------------------------------------------------------------------
def _open_ne1000(dev: Any, ctx: OpenContext) -> Ne1000Pump:
    return Ne1000Pump(dev.port, dev.address, baud=dev.baud, timeout_s=ctx.timeout(dev),
                      retry=ctx.retry, name=dev.name)


def _probe_ne1000(drv: Ne1000Pump, dev: Any) -> str:
    version = drv.connect()
    detail = f"{version}, address {dev.address}, {drv.status().name.lower()}"
    return detail + (f" (cleared alarm {drv.last_alarm})" if drv.last_alarm else "")


def _emulate_ne1000(world: Any, dev: Any, line: Any) -> tuple[Any, Any]:
    from hardware.emulators.ne1000 import Ne1000Bus, Ne1000Emulator, add_pump_emulator

    return add_pump_emulator(world, dev, line, Ne1000Bus, Ne1000Emulator)


NE1000 = DriverSpec(
    name="ne1000", roles=("pump",), capability=Pump, driver_class=Ne1000Pump,
    transport="RS-232 basic/safe mode (STX/ETX, CRC-16/CCITT), daisy chain 0-99",
    open=_open_ne1000, probe=_probe_ne1000, emulator=_emulate_ne1000,
    source="New Era NE-1000 user manual, RS-232 chapter")


# -- Eurotherm 3216 ----------------------------------------------------------------------
def _open_eurotherm(dev: Any, ctx: OpenContext) -> Eurotherm3216:
    return Eurotherm3216(dev.port, dev.address, baud=dev.baud, timeout_s=ctx.timeout(dev),
                         retry=ctx.retry, name=dev.name)


def _probe_eurotherm(drv: Eurotherm3216, dev: Any) -> str:
    ident = drv.instrument_id()
    status = drv.read_status()
    pv = "sensor break" if status.sensor_break else f"PV {drv.read_pv():.1f} C"
    flags = [n for n, on in (("manual", status.manual), ("loop break", status.loop_break)) if on]
    detail = f"instrument {ident:#06x}, slave {dev.address}, {pv}" + \
        (f", {', '.join(flags)}" if flags else "")
    if status.sensor_break:
        raise DeviceAlarm(detail, code="sensor_break", device=dev.name,
                          next_step="check the thermocouple")
    return detail


def _emulate_eurotherm(world: Any, dev: Any, line: Any) -> tuple[Any, Any]:
    from hardware.emulators.eurotherm import Eurotherm3216Emulator, ModbusBus

    bus = line if line is not None else ModbusBus(world)
    if not isinstance(bus, ModbusBus):
        raise ValueError(f"port {dev.port} is shared by devices of different kinds")
    emu = bus.add(Eurotherm3216Emulator(world, dev.name, dev.address), stage=dev.stage)
    return bus, emu


EUROTHERM3216 = DriverSpec(
    name="eurotherm3216", roles=("heater",), capability=Heater, driver_class=Eurotherm3216,
    transport="Modbus RTU (CRC-16/Modbus), slaves 1-247", open=_open_eurotherm,
    probe=_probe_eurotherm, emulator=_emulate_eurotherm,
    source="Eurotherm 3200 series engineering manual HA028651, Modbus chapter")


# -- Ocean OBP ---------------------------------------------------------------------------
def _open_obp(dev: Any, ctx: OpenContext) -> OceanObpSpectrometer:
    return OceanObpSpectrometer(dev.port, baud=dev.baud, timeout_s=ctx.timeout(dev),
                                retry=ctx.retry, name=dev.name)


def _probe_obp(drv: OceanObpSpectrometer, dev: Any) -> str:
    serial = drv.serial_number()
    wl = drv.wavelengths()
    return f"Ocean STS (OBP), serial {serial}, {len(wl)} px, {wl[0]:.1f}-{wl[-1]:.1f} nm"


def _emulate_obp(world: Any, dev: Any, line: Any) -> tuple[Any, Any]:
    from hardware.emulators.ocean import ObpSpectrometerEmulator

    if line is not None:
        raise ValueError(f"port {dev.port}: a spectrometer cannot share its line")
    emu = ObpSpectrometerEmulator(world, dev.name)
    return emu, emu


OCEAN_OBP = DriverSpec(
    name="ocean_obp", roles=("spectrometer",), capability=Spectrometer,
    driver_class=OceanObpSpectrometer, transport="RS-232 Ocean Binary Protocol (MD5 footer)",
    open=_open_obp, probe=_probe_obp, emulator=_emulate_obp,
    source="Ocean STS / Ocean Binary Protocol data sheet")


# -- photon files ------------------------------------------------------------------------
def _open_folder(dev: Any, ctx: OpenContext) -> PhotonFolder:
    kw: dict[str, Any] = {"settle_s": dev.settle_s, "poll_s": ctx.poll_s, "name": dev.name}
    if ctx.clock is not None:
        kw["clock"] = ctx.clock
    if ctx.sleep is not None:
        kw["sleep"] = ctx.sleep
    if ctx.photon_reader is None:
        raise ValueError(f"{dev.name}: a photon_timer needs a photon-file reader "
                         "(OpenContext(photon_reader=...), given by sdl.rigs)")
    return PhotonFolder(dev.folder, reader=ctx.photon_reader, **kw)


def _probe_folder(drv: PhotonFolder, dev: Any) -> str:
    drv.check()
    return f"folder {dev.folder} exists"


PTU_FOLDER = DriverSpec(
    name="ptu_folder", roles=("photon_timer",), capability=PhotonCounter,
    driver_class=PhotonFolder, transport="files: PicoQuant PTU / Photon-HDF5 in a folder",
    open=_open_folder, probe=_probe_folder, needs_port=False,
    source="PicoQuant PTU file format (tagged header, T2/T3 records)")


# -- optics (light path) -----------------------------------------------------------------
def _open_backchannel(dev: Any, ctx: OpenContext) -> Any:
    from hardware.optics_path import open_light_path

    return open_light_path(dev)


def _probe_backchannel(drv: Any, dev: Any) -> str:
    import socket

    from hardware.errors import PortUnavailable

    if isinstance(drv, BackchannelLightPath):
        try:
            with socket.create_connection((drv.host, drv.port), timeout=drv.timeout_s):
                pass
        except OSError as e:
            raise PortUnavailable(
                f"light path: cannot reach the emulator control socket {drv.host}:{drv.port} "
                f"({e})", url=dev.port, device=dev.name,
                next_step="start `sdl emulate` and use the rig file it writes (--write-rig)") from None
        return f"emulator control socket {drv.host}:{drv.port} answers, not switched"
    return f"emulated world {dev.port}, not switched"


class _Composed:
    """Marker class of the "composed" optics driver: the light path is built from the
    rig file's light-path role devices by FlowRig (`hardware.light_path`)."""

    name = "optics"

    def set_light(self, mode: str) -> None:  # pragma: no cover - never instantiated
        raise NotImplementedError

    def set_cell(self, cell: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        pass


def _open_composed(dev: Any, ctx: OpenContext) -> _Composed:
    return _Composed()


def _probe_composed(drv: Any, dev: Any) -> str:
    return "light path composed from the rig's shutter / LED / cell-selector devices"


EMULATOR_BACKCHANNEL = DriverSpec(
    name="emulator_backchannel", roles=("optics",), capability=LightPath,
    driver_class=BackchannelLightPath, transport="TCP line protocol to `sdl emulate` (emulated rigs only)",
    open=_open_backchannel, probe=_probe_backchannel,
    source="this project: hardware.emulators.control")
COMPOSED = DriverSpec(
    name="composed", roles=("optics",), capability=LightPath, driver_class=_Composed,
    transport="none: built from lamp_shutter / excitation_shutter / led_enable / cell_selector",
    open=_open_composed, probe=_probe_composed, needs_port=False,
    source="this project: hardware.light_path")
