"""Golden transcripts of the new emulators: they answer with exactly the bytes the driver
transcript tests (tests/hardware/drivers/test_{sc10,vici,numato,harvard}.py) expect, and
their faults act on the emulated flow cell as documented."""

from __future__ import annotations

from hardware.emulators.harvard import HarvardBus, HarvardEmulator
from hardware.emulators.numato import NumatoEmulator
from hardware.emulators.sc10 import Sc10Emulator
from hardware.emulators.vici import ViciEmulator
from hardware.emulators.world import EmulatedWorld, ManualClock

SC10_GOLDEN = [
    (b"id?\r", b"id?\rTHORLABS SC10 VERSION 1.07\r> "),
    (b"mode=1\r", b"mode=1\r> "),
    (b"interlock?\r", b"interlock?\r0\r> "),
    (b"ens?\r", b"ens?\r0\r> "),
    (b"closed?\r", b"closed?\r1\r> "),
    (b"ens\r", b"ens\r> "),
    (b"ens?\r", b"ens?\r1\r> "),
    (b"closed?\r", b"closed?\r0\r> "),
    (b"foo\r", b"foo\rCMD_NOT_DEFINED\r> "),
]
VICI_GOLDEN = [(b"VR\r", b"EUH 2.20\r"), (b"NP\r", b"NP06\r"), (b"CP\r", b"CP01\r"),
               (b"GO3\r", b""), (b"CP\r", b"CP03\r"), (b"GO9\r", b""), (b"CP\r", b"CP03\r")]
NUMATO_GOLDEN = [
    (b"ver\r", b"ver\n\r00000008\n\r>"), (b"id get\r", b"id get\n\r00000000\n\r>"),
    (b"relay on 0\r", b"relay on 0\n\r>"), (b"relay read 0\r", b"relay read 0\n\ron\n\r>"),
    (b"relay off 0\r", b"relay off 0\n\r>"), (b"relay read 0\r", b"relay read 0\n\roff\n\r>"),
    (b"gpio set 3\r", b"gpio set 3\n\r>"), (b"gpio read 3\r", b"gpio read 3\n\r1\n\r>"),
]
HARVARD_GOLDEN = [
    (b"\r", b"\n:"), (b"ver\r", b"\n11 ELITE I/W Single 3.0.4\r\n:"),
    (b"diameter 14.5700\r", b"\n:"), (b"ctvolume\r", b"\n:"), (b"irate 123.4 u/m\r", b"\n:"),
    (b"cvolume\r", b"\n:"), (b"irun\r", b"\n>"), (b"stop\r", b"\n:"),
    (b"ivolume\r", b"\n0.0000 ul\r\n:"),
    (b"irate 9999 m/m\r", b"\nArgument error: 9999\r\n   Out of range\r\n:"),
    (b"bogus\r", b"\nCommand error:\r\n   Unknown command\r\n:"),
]


def _play(device, golden) -> None:
    for sent, reply in golden:
        assert b"".join(device.feed(sent)) == reply, sent


def test_sc10_golden_and_it_switches_the_lamp():
    world = EmulatedWorld(ManualClock())
    emu = Sc10Emulator(world, "lamp", "lamp_shutter")
    assert world.light == "dark"  # powers up closed
    _play(emu, SC10_GOLDEN)
    assert world.light == "lamp"


def test_sc10_stuck_and_power_cycle():
    world = EmulatedWorld(ManualClock())
    emu = Sc10Emulator(world, "lamp", "lamp_shutter")
    emu.stick()
    assert emu.feed(b"ens\r") == [b"ens\r> "]
    assert emu.feed(b"closed?\r") == [b"closed?\r1\r> "]     # enabled but still closed
    emu.stick(False)
    emu.feed(b"ens\r")
    emu.feed(b"ens\r")
    assert world.light == "lamp"
    emu.power_cycle()
    assert world.light == "dark" and emu.feed(b"ens?\r") == []   # first command lost
    assert emu.feed(b"ens?\r") == [b"ens?\r0\r> "]


def test_vici_golden_and_wrong_position():
    world = EmulatedWorld(ManualClock())
    emu = ViciEmulator(world, "valve", positions={"sample": 1, "solvent": 2, "reference": 3})
    _play(emu, VICI_GOLDEN)
    assert world.cell == "reference"
    emu.land_wrong()
    emu.feed(b"GO2\r")
    assert emu.feed(b"CP\r") == [b"CP03\r"] and world.cell == "reference"
    emu.feed(b"GO2\r")
    assert world.cell == "solvent"


def test_numato_golden_and_led_enable():
    world = EmulatedWorld(ManualClock())
    box = NumatoEmulator(world, "box")
    box.attach(0, "led_enable")
    box.attach(1, "excitation_shutter")
    _play(box, NUMATO_GOLDEN)
    box.feed(b"relay on 0\r")
    assert world.light == "dark"        # LED on, excitation shutter closed
    box.feed(b"relay on 1\r")
    assert world.light == "excitation"
    box.power_cycle()
    assert world.light == "dark"


def test_harvard_golden_and_prompts():
    world = EmulatedWorld(ManualClock())
    bus = HarvardBus(world)
    pump = bus.add(HarvardEmulator(world, "p", 0))
    _play(bus, HARVARD_GOLDEN)
    bus.add(HarvardEmulator(world, "q", 12))
    assert b"".join(bus.feed(b"12irun\r")) == b"\n12>"
    pump.stall()
    assert b"".join(bus.feed(b"\r")) == b"\n*"      # stall reported once
    assert b"".join(bus.feed(b"\r")) == b"\n:"
