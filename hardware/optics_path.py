"""Light path and cell selector: the lamp / excitation / dark shutter and the
sample / solvent valve of the flow cell.

These are not part of the three serial protocols (PROTOCOLS.md), so they get their own
small capability `LightPath` (its protocol lives in `sdl.vocab.rig`). The cell selector has three positions: the reactor outlet
("sample"), neat solvent ("solvent", absorbance reference) and a reference dye
("reference", for relative PLQY). Two implementations, both for emulated rigs:

- `WorldLightPath`: sets `EmulatedWorld.light` / `.cell` directly (emulators in this
  process, e.g. tests); reached through `emuworld://NAME` after `register_world`.
- `BackchannelLightPath`: sends one line per switch to the control socket of
  `sdl emulate` (`tcp://127.0.0.1:PORT`): `optics:lamp`, `optics:excitation`,
  `optics:dark`, `optics:sample`, `optics:solvent`, `optics:reference`; the reply line is `ok` or
  `error: ...` (the fault-spec line protocol of `hardware.emulators.control`).

A real rig needs a driver for its shutter and valve; until one is configured,
`FlowRig.prepare()` refuses to start (see `open_light_path`).
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from hardware.errors import DeviceTimeout, HardwareError, PortUnavailable
from sdl.vocab.rig import CELLS, LIGHT_MODES, LightPath

_worlds: dict[str, Any] = {}
_worlds_lock = threading.Lock()


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    return value


class WorldLightPath:
    """Switches an in-process `EmulatedWorld` (its `light` and `cell` attributes)."""

    def __init__(self, world: Any, name: str = "optics"):
        self.world = world
        self.name = name

    def set_light(self, mode: str) -> None:
        _check(mode, LIGHT_MODES, "light")
        with self.world.lock:
            self.world.light = mode

    def set_cell(self, cell: str) -> None:
        _check(cell, CELLS, "cell")
        with self.world.lock:
            self.world.cell = cell

    def close(self) -> None:
        pass


class BackchannelLightPath:
    """Switches a separately running emulator through its control socket.

    Args:
        host, port: the control socket `sdl emulate` prints (127.0.0.1).
        timeout_s: connect / reply deadline per command.
        name: device name in errors.
    """

    def __init__(self, host: str, port: int, *, timeout_s: float = 2.0, name: str = "optics"):
        self.host, self.port, self.timeout_s, self.name = host, port, timeout_s, name

    def _send(self, word: str) -> None:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout_s) as s:
                s.settimeout(self.timeout_s)
                s.sendall(f"optics:{word}\n".encode())
                reply = s.makefile("rb").readline().decode("utf-8", "replace").strip()
        except TimeoutError:
            raise DeviceTimeout(f"no reply to optics:{word}", timeout_s=self.timeout_s,
                                device=self.name) from None
        except OSError as e:
            raise PortUnavailable(f"cannot reach the emulator control socket: {e}",
                                  url=f"tcp://{self.host}:{self.port}", device=self.name) from None
        if reply != "ok":
            raise HardwareError(f"emulator refused optics:{word}: {reply or 'no answer'}",
                                device=self.name,
                                next_step="use an emulator whose control socket accepts "
                                          "optics:<lamp|excitation|dark|sample|solvent|reference>")

    def set_light(self, mode: str) -> None:
        self._send(_check(mode, LIGHT_MODES, "light"))

    def set_cell(self, cell: str) -> None:
        self._send(_check(cell, CELLS, "cell"))

    def close(self) -> None:
        pass


def register_world(name: str, world: Any) -> str:
    """Make `world` reachable as `emuworld://NAME`; return that URL."""
    with _worlds_lock:
        _worlds[name] = world
    return f"emuworld://{name}"


def unregister_world(name: str) -> None:
    with _worlds_lock:
        _worlds.pop(name, None)


def open_light_path(device: Any) -> LightPath:
    """Open the light path of an `OpticsDevice` of the rig file.

    Raises:
        PortUnavailable: an `emuworld://` name not registered, or a malformed port.
    """
    port = device.port
    if port.startswith("emuworld://"):
        key = port[len("emuworld://"):]
        with _worlds_lock:
            world = _worlds.get(key)
        if world is None:
            raise PortUnavailable(f"no emulated world registered as {key!r}", url=port,
                                  device=device.name)
        return WorldLightPath(world, device.name)
    address = port[len("tcp://"):] if port.startswith("tcp://") else port
    host, _, num = address.rpartition(":")
    if not host or not num.isdigit():
        raise PortUnavailable("optics port must be tcp://HOST:PORT or emuworld://NAME",
                              url=port, device=device.name,
                              next_step="set the optics port to the control socket `sdl emulate` prints")
    return BackchannelLightPath(host, int(num), timeout_s=device.timeout_s, name=device.name)
