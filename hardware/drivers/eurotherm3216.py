"""Eurotherm 3216 (3200 series) temperature controller over Modbus RTU.

Source: Eurotherm 3200 series engineering manual HA028651, Modbus chapter; Modbus over
serial line specification V1.02 (Modbus-IDA) for framing and CRC.
- functions 03 (read holding registers), 06 (write single), 16 (write multiple);
  exceptions `fc | 0x80` + code (01 illegal function, 02 illegal address, 03 illegal value);
- registers are one-decimal scaled signed 16-bit integers (24.2 °C -> 242);
- CRC-16/Modbus (poly 0xA001 reflected, init 0xFFFF), low byte first.

EEPROM care: the target setpoint (2) and SP1/SP2 (24/25) live in EEPROM (~100,000 writes).
This driver writes temperature changes only to the comms setpoint (26), and writes other
EEPROM parameters (ramp rate) only when the value differs from what the unit holds.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from hardware.errors import ChecksumError, CommandRejected, DeviceAlarm, ProtocolError, tag_device
from hardware.retry import RetryPolicy
from hardware.transport import Port, PortClient, open_port


class Reg(enum.IntEnum):
    """Modbus register addresses (HA028651). Scaled x10 unless noted."""

    PV = 1                 # process value, degC
    TARGET_SP = 2          # target setpoint (EEPROM: do not write repeatedly)
    MANUAL_OUTPUT = 3      # manual output, %
    WORKING_OUTPUT = 4     # working output, %
    WORKING_SP = 5         # working setpoint (follows the ramp), degC
    ALARM1_THRESHOLD = 13
    ALARM2_THRESHOLD = 14
    SP1 = 24               # EEPROM
    SP2 = 25               # EEPROM
    COMMS_SP = 26          # comms setpoint (RAM): use for frequent changes
    OUTPUT_HIGH = 30
    OUTPUT_LOW = 31
    RAMP_RATE = 35         # setpoint rate limit, degC/min, 0 = off
    STATUS = 75            # instrument status word, bit flags (unscaled) - verify on unit
    INSTRUMENT_ID = 122    # instrument type (unscaled) - verify on unit
    AUTO_MANUAL = 273      # 0 auto, 1 manual (unscaled)


EEPROM_REGISTERS = frozenset({Reg.TARGET_SP, Reg.SP1, Reg.SP2, Reg.RAMP_RATE, Reg.ALARM1_THRESHOLD,
                              Reg.ALARM2_THRESHOLD, Reg.OUTPUT_HIGH, Reg.OUTPUT_LOW})


class StatusBit(enum.IntFlag):
    """Bits of the instrument status word (register 75, HA028651)."""

    ALARM1 = 1 << 0
    ALARM2 = 1 << 1
    ALARM3 = 1 << 2
    ALARM4 = 1 << 3
    MANUAL = 1 << 4
    SENSOR_BREAK = 1 << 5
    LOOP_BREAK = 1 << 6
    HEATER_FAIL = 1 << 7


EXCEPTIONS = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
              4: "slave device failure", 6: "slave device busy"}
SENSOR_BREAK_RAW = (32767, -32768)  # full-scale register values read during sensor break


@dataclass(frozen=True)
class HeaterStatus:
    """Decoded status word."""

    word: int

    sensor_break = property(lambda self: self._bit(StatusBit.SENSOR_BREAK))
    loop_break = property(lambda self: self._bit(StatusBit.LOOP_BREAK))
    manual = property(lambda self: self._bit(StatusBit.MANUAL))
    heater_fail = property(lambda self: self._bit(StatusBit.HEATER_FAIL))

    def _bit(self, bit: StatusBit) -> bool:
        """True when `bit` is set in the status word."""
        return bool(self.word & bit)

    @property
    def alarms(self) -> tuple[int, ...]:
        return tuple(i + 1 for i in range(4) if self.word & (1 << i))


# ---------------------------------------------------------------------------- pure functions
def crc16_modbus(frame: bytes) -> int:
    """CRC-16/Modbus of `frame` (init 0xFFFF, reflected poly 0xA001). Sent low byte first.

    Source: Modbus over serial line V1.02, section 6.2.2. Vector: 01 03 00 00 00 01 ->
    0x0A84 (bytes 84 0A on the wire).
    """
    crc = 0xFFFF
    for b in bytes(frame):
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc(pdu: bytes) -> bytes:
    """Append the Modbus CRC (low byte first)."""
    crc = crc16_modbus(pdu)
    return bytes(pdu) + bytes([crc & 0xFF, crc >> 8])


def check_crc(frame: bytes) -> bytes:
    """Verify a frame's trailing CRC; return the frame without it."""
    frame = bytes(frame)
    if len(frame) < 4:
        raise ProtocolError("Modbus frame shorter than 4 bytes", raw=frame)
    if crc16_modbus(frame[:-2]) != frame[-2] | (frame[-1] << 8):
        raise ChecksumError("Modbus CRC mismatch", raw=frame)
    return frame[:-2]


def build_read_request(slave: int, register: int, count: int = 1) -> bytes:
    """Function 03 request frame."""
    if not 1 <= count <= 125:
        raise ValueError("read count must be 1-125")
    return with_crc(struct.pack(">BBHH", slave, 3, register, count))


def build_write_request(slave: int, register: int, value: int) -> bytes:
    """Function 06 request frame (value: raw signed/unsigned 16-bit)."""
    return with_crc(struct.pack(">BBHH", slave, 6, register, value & 0xFFFF))


def modbus_reply_framer(slave: int, function: int):
    """Framer for the reply to `function` from `slave`: normal or exception reply.

    Noise before the frame is skipped by searching for the slave address followed by the
    function code (or its exception form).
    """
    def find(buf: bytes) -> tuple[int, int] | None:
        for start in range(len(buf)):
            if buf[start] != slave:
                continue
            if start + 1 >= len(buf):
                return None
            fc = buf[start + 1]
            if fc == function | 0x80:
                length = 5
            elif fc == function:
                if function == 3:
                    if start + 2 >= len(buf):
                        return None
                    length = 5 + buf[start + 2]
                else:
                    length = 8
            else:
                continue
            return (start, start + length) if len(buf) >= start + length else None
        return None
    return find


def parse_modbus_reply(raw: bytes, slave: int, function: int) -> bytes:
    """Check a reply frame and return its data.

    For function 03 returns the register bytes; for 06/16 returns the echoed 4 bytes.

    Raises:
        ChecksumError / ProtocolError: bad frame; CommandRejected: exception reply.
    """
    body = check_crc(raw)
    if body[0] != slave:
        raise ProtocolError(f"reply from slave {body[0]}, expected {slave}", raw=raw)
    if body[1] == function | 0x80:
        if len(body) != 3:
            raise ProtocolError("bad exception reply length", raw=raw)
        code = body[2]
        raise CommandRejected(f"Modbus exception {code} ({EXCEPTIONS.get(code, 'unknown')}) "
                              f"to function {function}", code=code)
    if body[1] != function:
        raise ProtocolError(f"reply function {body[1]}, expected {function}", raw=raw)
    if function == 3:
        if len(body) < 3 or body[2] != len(body) - 3 or body[2] % 2:
            raise ProtocolError("bad byte count in read reply", raw=raw)
        return body[3:]
    if len(body) != 6:
        raise ProtocolError("bad write reply length", raw=raw)
    return body[2:]


def scaled(raw: int, decimals: int = 1) -> float:
    """Signed 16-bit register value to engineering units (one decimal by default)."""
    return raw / 10 ** decimals


def to_register(value: float, decimals: int = 1) -> int:
    """Engineering value to a signed 16-bit register value; ValueError if it cannot fit."""
    raw = round(value * 10 ** decimals)
    if not -32768 <= raw <= 32767:
        raise ValueError(f"{value} does not fit a scaled 16-bit register")
    return raw


# ------------------------------------------------------------------------------------ driver
class Eurotherm3216(PortClient):
    """One 3216 at Modbus `address` on a (possibly shared) RS-485/RS-232 line.

    Args:
        url: pyserial URL.
        address: Modbus slave address 1-247.
        baud: baud rate.
        timeout_s: reply deadline per request.
        retry: policy for queries; all methods here are idempotent (register reads and
            absolute writes), so all are retried.
        name: device name in logs and errors.
    """

    def __init__(self, url: str, address: int = 1, *, baud: int = 9600, timeout_s: float = 1.0,
                 retry: RetryPolicy | None = None, name: str = ""):
        if not 1 <= address <= 247:
            raise ValueError(f"Modbus address must be 1-247, got {address}")
        self.address = address
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.name = name or f"eurotherm3216@{url}#{address}"
        self._port: Port | None = open_port(url, baud, timeout_s)

    def _transact(self, request: bytes, function: int) -> bytes:
        def once() -> bytes:
            raw = self.port.exchange(request, modbus_reply_framer(self.address, function),
                                     self.timeout_s, device=self.name)
            with tag_device(self.name, ProtocolError, CommandRejected):
                return parse_modbus_reply(raw, self.address, function)
        return self.retry.call(once, f"{self.name} fc{function}")

    # -- registers -----------------------------------------------------------------------
    def read_registers(self, register: int, count: int = 1) -> list[int]:
        """Read `count` raw signed 16-bit registers starting at `register`."""
        data = self._transact(build_read_request(self.address, register, count), 3)
        if len(data) != 2 * count:
            raise ProtocolError(f"asked {count} registers, got {len(data) // 2}", raw=data,
                                device=self.name)
        return list(struct.unpack(f">{count}h", data))

    def write_register(self, register: int, raw: int) -> None:
        """Write one raw register. Refuses EEPROM registers (use the named setters)."""
        if register in EEPROM_REGISTERS:
            raise ValueError(f"register {register} is EEPROM-backed; write it through a setter "
                             "that skips unchanged values (or the comms setpoint 26)")
        self._write(register, raw)

    def _write(self, register: int, raw: int) -> None:
        request = build_write_request(self.address, register, raw)
        echo = self._transact(request, 6)
        if echo != request[2:6]:
            raise ProtocolError("write echo differs from request", raw=echo, device=self.name)

    # -- API -----------------------------------------------------------------------------
    def read_pv(self) -> float:
        """Measured temperature, degC. Raises `DeviceAlarm('sensor_break')` on full scale."""
        raw = self.read_registers(Reg.PV)[0]
        if raw in SENSOR_BREAK_RAW:
            raise DeviceAlarm("thermocouple reads full scale (sensor break)", code="sensor_break",
                              device=self.name,
                              next_step="stop heating; check the thermocouple and its connector")
        return scaled(raw)

    def read_working_setpoint(self) -> float:
        """Working setpoint (follows the ramp), degC."""
        return scaled(self.read_registers(Reg.WORKING_SP)[0])

    def set_comms_setpoint(self, celsius: float) -> None:
        """Set the temperature through the comms setpoint (RAM, safe for frequent writes)."""
        self._write(Reg.COMMS_SP, to_register(celsius))

    def comms_setpoint(self) -> float:
        return scaled(self.read_registers(Reg.COMMS_SP)[0])

    def set_ramp_rate(self, c_per_min: float) -> None:
        """Setpoint ramp rate in degC/min (0 = step). EEPROM: written only if it changed."""
        raw = to_register(c_per_min)
        if raw < 0:
            raise ValueError("ramp rate must be >= 0")
        if self.read_registers(Reg.RAMP_RATE)[0] != raw:
            self._write(Reg.RAMP_RATE, raw)

    def set_alarm1_threshold(self, celsius: float) -> None:
        """Alarm 1 (configured as full-scale high on the unit) threshold, degC; status bit 0
        is set above it. EEPROM: written only if it changed."""
        raw = to_register(celsius)
        if self.read_registers(Reg.ALARM1_THRESHOLD)[0] != raw:
            self._write(Reg.ALARM1_THRESHOLD, raw)

    def ramp_rate(self) -> float:
        return scaled(self.read_registers(Reg.RAMP_RATE)[0])

    def working_output(self) -> float:
        """Working output power, %."""
        return scaled(self.read_registers(Reg.WORKING_OUTPUT)[0])

    def read_status(self) -> HeaterStatus:
        """Instrument status word (sensor break, loop break, manual, alarms)."""
        return HeaterStatus(self.read_registers(Reg.STATUS)[0] & 0xFFFF)

    def check(self) -> HeaterStatus:
        """Read the status and raise `DeviceAlarm` for sensor break / loop break / manual."""
        st = self.read_status()
        if st.sensor_break:
            raise DeviceAlarm("sensor break", code="sensor_break", device=self.name,
                              next_step="stop heating; check the thermocouple")
        if st.loop_break or st.heater_fail:
            raise DeviceAlarm("loop break: output has no effect on temperature",
                              code="loop_break", device=self.name,
                              next_step="stop; check the heater element, fuse and SSR")
        if st.manual:
            raise DeviceAlarm("controller is in manual mode", code="manual", device=self.name,
                              next_step="call set_auto() or switch to AUTO on the front panel")
        return st

    def set_auto(self) -> None:
        """Put the loop in automatic mode."""
        self._write(Reg.AUTO_MANUAL, 0)

    def instrument_id(self) -> int:
        """Instrument type word (register 122)."""
        return self.read_registers(Reg.INSTRUMENT_ID)[0] & 0xFFFF
