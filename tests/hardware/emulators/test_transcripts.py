"""Golden transcripts: the emulators answer with exactly the bytes the driver tests expect.

The same (request, reply) pairs drive the byte-exact driver tests, so driver and emulator
cannot drift apart silently.
"""

from __future__ import annotations

import struct

from hardware.drivers.eurotherm3216 import build_read_request, build_write_request, with_crc
from hardware.drivers.ne1000 import build_safe_packet
from hardware.drivers.ocean_obp import (
    FLAG_ACK,
    FLAG_REQUEST_ACK,
    FLAG_RESPONSE,
    GET_SERIAL,
    SET_ITIME_USEC,
    build_obp_message,
)
from hardware.emulators.eurotherm import Eurotherm3216Emulator, ModbusBus
from hardware.emulators.ne1000 import Ne1000Bus, Ne1000Emulator
from hardware.emulators.ocean import ObpSpectrometerEmulator
from hardware.emulators.world import EmulatedWorld, ManualClock

NE1000_GOLDEN = [
    (b"00VER\r", b"\x0200SNE1000V3.928\x03"),
    (b"00DIA14.57\r", b"\x0200S\x03"),
    (b"00RAT500UM\r", b"\x0200S\x03"),
    (b"00RAT\r", b"\x0200S500UM\x03"),
    (b"00DIRINF\r", b"\x0200S\x03"),
    (b"00RUN\r", b"\x0200I\x03"),
    (b"00DIS\r", b"\x0200II0.000W0.000ML\x03"),
    (b"00STP\r", b"\x0200S\x03"),
    (b"00FOO\r", b"\x0200S?\x03"),
    (b"00RAT99999UM\r", b"\x0200S?\x03"),
    (b"00RAT9000MM\r", b"\x0200S?OOR\x03"),
    (build_safe_packet(b"00"), build_safe_packet(b"00S")),
    (b"\x02\x0600\x00\x00\x03", build_safe_packet(b"00S?COM")),   # bad CRC -> ?COM
    (b"07VER\r", b""),                                            # nobody at address 7
]


def test_ne1000_golden():
    world = EmulatedWorld(ManualClock())
    bus = Ne1000Bus(world)
    bus.add(Ne1000Emulator(world, "p", 0))
    for sent, reply in NE1000_GOLDEN:
        assert b"".join(bus.feed(sent)) == reply, sent


def test_ne1000_bytes_split_across_writes():
    world = EmulatedWorld(ManualClock())
    bus = Ne1000Bus(world)
    bus.add(Ne1000Emulator(world, "p", 0))
    assert bus.feed(b"00V") == [] and bus.feed(b"ER") == []
    assert bus.feed(b"\r") == [b"\x0200SNE1000V3.928\x03"]


def test_eurotherm_golden():
    world = EmulatedWorld(ManualClock())
    bus = ModbusBus(world)
    bus.add(Eurotherm3216Emulator(world, "h", 1))
    wr = build_write_request(1, 26, 2000)
    golden = [
        (build_read_request(1, 1), with_crc(bytes.fromhex("010302") + (220).to_bytes(2, "big"))),
        (wr, wr),
        (build_read_request(1, 26), with_crc(bytes.fromhex("010302") + (2000).to_bytes(2, "big"))),
        (build_read_request(1, 9999), with_crc(bytes.fromhex("018302"))),
        (with_crc(bytes.fromhex("01410000")) + b"\0\0", with_crc(bytes.fromhex("01C101"))),
        (build_read_request(2, 1), b""),                               # no slave 2
    ]
    for sent, reply in golden:
        assert b"".join(bus.feed(sent)) == reply, sent.hex()


def test_obp_golden():
    world = EmulatedWorld(ManualClock())
    dev = ObpSpectrometerEmulator(world, serial="STS01234")
    assert dev.feed(build_obp_message(GET_SERIAL)) == [
        build_obp_message(GET_SERIAL, immediate=b"STS01234", flags=FLAG_RESPONSE)]
    itime = struct.pack("<I", 20000)
    assert dev.feed(build_obp_message(SET_ITIME_USEC, immediate=itime, flags=FLAG_REQUEST_ACK)) == [
        build_obp_message(SET_ITIME_USEC, flags=FLAG_RESPONSE | FLAG_ACK)]
    assert dev.feed(build_obp_message(SET_ITIME_USEC, immediate=itime)) == []  # no ACK asked


def test_ne1000_interbyte_gap_discards_partial_safe_packet():
    # NE-1000 manual 9.2.3: in a safe packet, bytes more than 0.5 s apart discard it.
    t = [0.0]
    world = EmulatedWorld(ManualClock())
    bus = Ne1000Bus(world, byte_clock=lambda: t[0])
    bus.add(Ne1000Emulator(world, "p", 0))
    pkt = build_safe_packet(b"00VER")
    assert bus.feed(pkt[:4]) == []
    t[0] = 0.6
    assert bus.feed(pkt[4:]) == []                      # tail alone is not a packet
    assert bus.garbage[0] == pkt[:4]
    t[0] = 0.7
    assert bus.feed(pkt[:4]) == []
    t[0] = 1.1                                          # 0.4 s gap: still one packet
    assert bus.feed(pkt[4:]) == [build_safe_packet(b"00SNE1000V3.928")]
    t[0] = 5.0                                          # basic mode: typing speed is fine
    assert bus.feed(b"00V") == []
    t[0] = 9.0
    assert bus.feed(b"ER\r") == [b"\x0200SNE1000V3.928\x03"]


def test_ne1000_saf0_packet_from_manual_returns_to_basic():
    # NE-1000 manual 9.2.2: "(0x2) (0x8) SAF0 (0x55) (0x43) (0x3)" returns to basic mode.
    world = EmulatedWorld(ManualClock())
    bus = Ne1000Bus(world)
    pump = bus.add(Ne1000Emulator(world, "p", 0))
    pump.safe_timeout_s = 10
    assert bus.feed(b"00VER\r") == []                       # ignored in safe mode
    assert bus.feed(b"\x02\x08SAF0\x55\x43\x03") == [build_safe_packet(b"00S")]
    assert pump.safe_timeout_s == 0
    assert bus.feed(b"00VER\r") == [b"\x0200SNE1000V3.928\x03"]
