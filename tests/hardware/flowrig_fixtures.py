"""Shared setup for the FlowRig tests: a small rig file, its emulators on a manual clock,
and a FlowRig whose sleep advances that clock (no wall-clock sleeps)."""

from __future__ import annotations

import itertools
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hardware.emulators.rig_emulator import EmulatedRig
from hardware.emulators.world import ManualClock
from hardware.flowrig import FlowRig
from hardware.optics_path import register_world, unregister_world
from sdl.analysis.photon_files import read_photon_file, write_ptu
from sdl.schema.rig import RigFile
from sdl.vocab.conditions import complete

RIG_TOML = """
[rig]
name = "flowrig-test"
[limits]
max_temperature_c = 300
max_total_flow_ul_min = 3000
max_ramp_c_per_min = 60
[reactor]
volume_ul = 100
flush_volumes = 3
temperature_band_c = 1.5
stable_for_s = 10
[[devices]]
role = "pump"
name = "pump_metal"
port = "PUMPS"
address = 0
inlet = "metal"
stock_molar = 0.2
syringe_diameter_mm = 14.57
syringe_volume_ul = 10000
watchdog_s = 20
[[devices]]
role = "pump"
name = "pump_anion"
port = "PUMPS"
address = 1
inlet = "anion"
stock_molar = 0.5
syringe_diameter_mm = 14.57
syringe_volume_ul = 10000
watchdog_s = 20
[[devices]]
role = "pump"
name = "pump_ligand"
port = "PUMPS"
address = 2
inlet = "ligand"
stock_molar = 1.0
syringe_diameter_mm = 14.57
syringe_volume_ul = 10000
watchdog_s = 20
[[devices]]
role = "pump"
name = "pump_solvent"
port = "PUMPS"
address = 3
inlet = "solvent"
syringe_diameter_mm = 14.57
syringe_volume_ul = 20000
watchdog_s = 20
[[devices]]
role = "heater"
name = "heater_core"
port = "HEATERS"
timeout_s = 0.3
[[devices]]
role = "spectrometer"
name = "sts"
port = "STS"
integration_time_us = 100000
[[devices]]
role = "photon_timer"
name = "hbt"
folder = "PHOTONS"
settle_s = 1
"""

GOOD = {"temperature_c": 250.0, "residence_time_s": 30.0, "metal_conc_mm": 20.0,
        "se_to_cd": 2.0, "ligand_to_metal": 4.0}
_ids = itertools.count()


def conditions(**kw: Any) -> dict[str, Any]:
    return complete({**GOOD, **kw})


@dataclass
class Bench:
    """Emulators + FlowRig on one manual clock.

    `on_sleep` hooks run after every FlowRig sleep (fault injection at a chosen state);
    `photon_every_s` makes the emulated tagger write a file that often while pumps flow,
    as `sdl emulate` does.
    """

    emu: EmulatedRig
    rig: FlowRig
    clock: ManualClock
    rig_file: RigFile
    data: dict
    world_key: str
    on_sleep: list = field(default_factory=list)
    photon_every_s: float = 0.0
    _next_photons: float = 0.0

    def sleep(self, s: float) -> None:
        self.clock.advance(s)
        self.emu.world.tick()
        if self.photon_every_s and self.emu.tagger is not None and self.clock.now() >= self._next_photons:
            if sum(self.emu.world.inlet_flows_ul_min().values()) > 0:
                self._next_photons = self.clock.now() + self.photon_every_s
                self.emu.tagger.acquire(0.5)
        for hook in list(self.on_sleep):
            hook(self)

    def command_counts(self) -> dict[str, int]:
        return {name: len(getattr(dev, "command_log", [])) for name, dev in self.emu.devices.items()}

    def close(self) -> None:
        try:
            self.rig.close()
        finally:
            self.emu.stop()
            unregister_world(self.world_key)


def rig_data(tmp_path: Path, *, optics: bool = True) -> dict:
    data = tomllib.loads(RIG_TOML)
    for d in data["devices"]:
        if d["role"] == "photon_timer":
            d["folder"] = str(tmp_path / "photons")
    (tmp_path / "photons").mkdir(exist_ok=True)
    return data


# The light path from real drivers (composed): SC10 shutters, a Numato LED relay, a VICI
# cell selector; each on its own emulated line.
LIGHT_DEVICES = [
    {"role": "lamp_shutter", "name": "lamp_shutter", "driver": "thorlabs_sc10", "port": "LAMP",
     "baud": 9600, "timeout_s": 0.3},
    {"role": "excitation_shutter", "name": "exc_shutter", "driver": "thorlabs_sc10",
     "port": "EXC", "baud": 9600, "timeout_s": 0.3},
    {"role": "led_enable", "name": "led", "driver": "numato_relay", "port": "LED",
     "baud": 19200, "channel": 0, "timeout_s": 0.3},
    {"role": "cell_selector", "name": "valve", "driver": "vici_universal", "port": "VALVE",
     "baud": 9600, "positions": {"sample": 1, "solvent": 2, "reference": 3}, "timeout_s": 0.3},
]


def make_bench(tmp_path: Path, *, transport: str = "emu", optics: bool = True,
               seed: int = 1, light: str = "world", pump_driver: str = "ne1000",
               **rig_options: Any) -> Bench:
    """A bench; `light="composed"` uses the real light-path drivers against their
    emulators (else the world back channel); `pump_driver="harvard_elite"` swaps the pumps."""
    data = rig_data(tmp_path)
    for d in data["devices"]:
        if d["role"] == "pump" and pump_driver != "ne1000":
            d["driver"], d["baud"] = pump_driver, 115200
            d["timeout_s"] = 0.3
    if light == "composed":
        data["devices"] += [dict(d) for d in LIGHT_DEVICES]
        data["devices"].append({"role": "optics", "name": "optics"})
    clock = ManualClock()
    emu = EmulatedRig(RigFile.model_validate(data), clock=clock, seed=seed,
                      photon_folder=tmp_path / "photons", photon_writer=write_ptu)
    urls = emu.start(transport, link_dir=tmp_path if transport == "pty" else None)
    for d in data["devices"]:
        if d["name"] in urls:
            d["port"] = urls[d["name"]]
    key = f"flowrig-test-{next(_ids)}"
    if optics and light != "composed":
        data["devices"].append({"role": "optics", "name": "optics",
                                "port": register_world(key, emu.world)})
    rig_file = RigFile.model_validate(data)
    bench = Bench(emu, None, clock, rig_file, data, key)  # type: ignore[arg-type]
    rig_options.setdefault("poll_s", 5.0)
    rig_options.setdefault("photon_reader", read_photon_file)
    bench.rig = FlowRig(rig_file, clock=clock.now, sleep=bench.sleep, **rig_options)
    return bench


def inject_when(bench: Bench, state: str, device: str, fault: str,
                value: Any = None) -> dict[str, float]:
    """Inject `fault` into `device` once, the first time the rig sleeps in `state`;
    returns a dict that then holds the wall-clock time of the injection under "t"."""
    mark: dict[str, float] = {}

    def hook(b: Bench) -> None:
        if not mark and b.rig.state == state:
            mark["t"] = time.perf_counter()
            b.emu.inject(device, fault, value)
    bench.on_sleep.append(hook)
    return mark


def pumps_stopped(bench: Bench) -> bool:
    """Every emulated pump has stopped."""
    return all(not p.running for n, p in bench.emu.devices.items() if n.startswith("pump"))


def reject_next_rate(bench: Bench, pump: str = "pump_metal") -> None:
    """Make the pump reject its next command (the rate set by the coming flush) as out of
    range, once."""
    flush = bench.rig._flush

    def flush_with_fault(flows: Any) -> Any:
        bench.emu.inject(pump, "oor", 1)
        bench.rig._flush = flush
        return flush(flows)
    bench.rig._flush = flush_with_fault


def assert_interlock_fails_safely(bench: Bench, device: str, fault: str, value: Any,
                                  reason: str) -> Any:
    """Inject `fault` while flushing and run one experiment: it must fail on the interlock
    `reason` with every pump stopped and the core heater back at 25 degC; returns the raw
    measurement."""
    inject_when(bench, "flushing", device, fault, value)
    raw = bench.rig.run(conditions(), "e0001")
    assert raw.failure is not None and raw.failure.kind == "interlock", raw.failure
    assert raw.failure.reason == reason
    assert pumps_stopped(bench)
    assert bench.emu.devices["heater_core"].target_c == pytest.approx(25.0)
    return raw
