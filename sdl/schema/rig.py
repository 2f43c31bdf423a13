"""Rig file schema: which devices play which role, on which port, within which limits.

Example: `campaigns/rigs/example_rig.toml`. `sdl emulate` writes rig files of this form
pointing at emulated devices.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Reagent inlets a pump can feed; `sdl.vocab.flows` maps conditions to inlet flows.
INLETS = ("metal", "anion", "ligand", "dopant", "shell", "exchange", "solvent")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Port = Annotated[str, Field(min_length=1, max_length=512)]


class RigInfo(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: str = ""


class RigLimits(_Strict):
    """Hard limits checked before any device moves (`hardware.safety`)."""

    max_temperature_c: Annotated[float, Field(gt=0, le=400)]
    max_total_flow_ul_min: Annotated[float, Field(gt=0, le=1e6)]
    max_pressure_bar: Annotated[float, Field(gt=0, le=1000)] = 10.0
    max_ramp_c_per_min: Annotated[float, Field(gt=0, le=1000)] = 20.0
    min_temperature_c: Annotated[float, Field(ge=-50, le=400)] = 15.0

    @model_validator(mode="after")
    def _check(self) -> RigLimits:
        if not self.min_temperature_c < self.max_temperature_c:
            raise ValueError("min_temperature_c must be below max_temperature_c")
        return self


class Reactor(_Strict):
    """Reactor geometry. Volumes in microlitres."""

    volume_ul: Annotated[float, Field(gt=0, le=1e6)]
    stage2_volume_ul: Annotated[float, Field(ge=0, le=1e6)] = 0.0
    tube_inner_diameter_mm: Annotated[float, Field(gt=0, le=50)] = 1.0
    flow_cell_path_cm: Annotated[float, Field(gt=0, le=10)] = 0.1
    flush_volumes: Annotated[float, Field(ge=3, le=100)] = 3.0
    temperature_band_c: Annotated[float, Field(gt=0, le=50)] = 1.0
    stable_for_s: Annotated[float, Field(ge=0, le=3600)] = 30.0


class _Device(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
    port: Port = Field(description="pyserial URL: /dev/ttyUSB0, /dev/serial/by-id/..., "
                       "socket://host:port, or an emulator URL")
    baud: Annotated[int, Field(ge=300, le=4_000_000)] = 19200
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 1.0


class PumpDevice(_Device):
    role: Literal["pump"]
    driver: Literal["ne1000"] = "ne1000"
    address: Annotated[int, Field(ge=0, le=99)] = 0
    inlet: Literal[INLETS]  # type: ignore[valid-type]
    stock_molar: Annotated[float, Field(ge=0, le=20)] = 0.0
    syringe_diameter_mm: Annotated[float, Field(gt=0, le=50)]
    syringe_volume_ul: Annotated[float, Field(gt=0, le=1e6)]
    safe_mode: bool = True
    watchdog_s: Annotated[int, Field(ge=0, le=255)] = 10


class HeaterDevice(_Device):
    role: Literal["heater"]
    driver: Literal["eurotherm3216"] = "eurotherm3216"
    address: Annotated[int, Field(ge=1, le=247)] = 1
    stage: Literal["core", "stage2"] = "core"
    baud: Annotated[int, Field(ge=300, le=4_000_000)] = 9600


class SpectrometerDevice(_Device):
    role: Literal["spectrometer"]
    driver: Literal["ocean_obp"] = "ocean_obp"
    baud: Annotated[int, Field(ge=300, le=4_000_000)] = 115200
    integration_time_us: Annotated[int, Field(ge=10, le=85_000_000)] = 100_000
    scans_to_average: Annotated[int, Field(ge=1, le=1000)] = 1


class PhotonTimerDevice(_Strict):
    role: Literal["photon_timer"]
    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
    driver: Literal["ptu_folder"] = "ptu_folder"
    folder: Annotated[str, Field(min_length=1, max_length=1024)]
    settle_s: Annotated[float, Field(ge=0, le=600)] = 2.0


class OpticsDevice(_Strict):
    """Light path and cell selector: lamp / excitation / dark shutter and the
    sample / solvent valve (not part of the three serial protocols; `hardware.optics_path`).

    `driver = "emulator_backchannel"` switches an emulated rig's light and cell through
    the emulator's back channel: `port` is the control socket of `sdl emulate`
    (`tcp://127.0.0.1:PORT`) or `emuworld://NAME` for emulators in the same process.
    `time_scale` is the emulator's `--speed` (emulated seconds per real second): the
    rig's waits shrink by it so a rehearsal runs as fast as the emulated world.

    Optical constants the analysis needs (written into every measurement's metadata):
    `excitation_nm` (PL excitation line, default 400), `solvent_index` (refractive index
    of the sample's solvent, default 1.445 for octadecene), `sample_dilution` (dilution
    of the reactor outlet before the flow cell, default 1 = none). Relative PLQY needs a
    reference dye in the cell selector's "reference" position, measured under excitation
    with every sample: `reference_dye` (name; "" = no dye position, PLQY is then not
    measured), with its `reference_plqy`, `reference_absorbance` (at `excitation_nm`,
    over the flow-cell path) and `reference_solvent_index` (all three required with a dye).
    """

    role: Literal["optics"]
    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
    driver: Literal["emulator_backchannel"] = "emulator_backchannel"
    port: Port
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 2.0
    time_scale: Annotated[float, Field(gt=0, le=10_000)] = 1.0
    excitation_nm: Annotated[float, Field(ge=200, le=1100)] = 400.0
    solvent_index: Annotated[float, Field(ge=1.0, le=3.0)] = 1.445
    sample_dilution: Annotated[float, Field(ge=1.0, le=1e4)] = 1.0
    reference_dye: Annotated[str, Field(max_length=80)] = ""
    reference_plqy: Annotated[float, Field(gt=0, le=1)] | None = None
    reference_absorbance: Annotated[float, Field(gt=0, le=2)] | None = None
    reference_solvent_index: Annotated[float, Field(ge=1.0, le=3.0)] | None = None

    @model_validator(mode="after")
    def _check_reference(self) -> OpticsDevice:
        fields = ("reference_plqy", "reference_absorbance", "reference_solvent_index")
        given = [f for f in fields if getattr(self, f) is not None]
        if self.reference_dye and len(given) < len(fields):
            missing = [f for f in fields if f not in given]
            raise ValueError(f"reference_dye {self.reference_dye!r} also needs "
                             f"{', '.join(missing)}")
        if given and not self.reference_dye:
            raise ValueError(f"{', '.join(given)} given without reference_dye (the dye's name)")
        return self


Device = Annotated[
    PumpDevice | HeaterDevice | SpectrometerDevice | PhotonTimerDevice | OpticsDevice,
    Field(discriminator="role"),
]


class RigFile(_Strict):
    rig: RigInfo
    limits: RigLimits
    reactor: Reactor
    devices: Annotated[list[Device], Field(min_length=1)]

    @model_validator(mode="after")
    def _check(self) -> RigFile:
        names = [d.name for d in self.devices]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate device names {dup}")
        pumps = [d for d in self.devices if d.role == "pump"]
        inlets = [p.inlet for p in pumps]
        dup_in = sorted({i for i in inlets if inlets.count(i) > 1})
        if dup_in:
            raise ValueError(f"more than one pump feeds inlet(s) {dup_in}")
        if not pumps:
            raise ValueError("a rig needs at least one pump")
        if not any(d.role == "heater" and d.stage == "core" for d in self.devices):
            raise ValueError("a rig needs a heater with stage = \"core\"")
        if sum(d.role == "spectrometer" for d in self.devices) != 1:
            raise ValueError("a rig needs exactly one spectrometer")
        if sum(d.role == "optics" for d in self.devices) > 1:
            raise ValueError("a rig has at most one optics device")
        stages = [d.stage for d in self.devices if d.role == "heater"]
        if len(stages) != len(set(stages)):
            raise ValueError("two heaters on the same stage")
        return self

    def pumps(self) -> list[PumpDevice]:
        return [d for d in self.devices if d.role == "pump"]
