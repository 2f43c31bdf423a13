"""Emulated Eurotherm 3216 controllers on one Modbus RTU line.

Plant: first-order heater with dead time (PROTOCOLS.md): tau dT/dt = T_amb - T + K u(t - theta)
with u the output fraction; controller: PID on the working setpoint, which follows the
target at the ramp rate (0 = step); auto or manual (output = manual output register).
Frames are split by function code and length (no 3.5-character gap over ptys).
Faults through methods: sensor break, heater failure, runaway, slow settling, overshoot,
Modbus exceptions, switched to manual.
"""

from __future__ import annotations

import struct

from hardware.drivers.eurotherm3216 import (
    EEPROM_REGISTERS,
    SENSOR_BREAK_RAW,
    Reg,
    StatusBit,
    crc16_modbus,
    with_crc,
)
from hardware.emulators.ne1000 import LogEntry
from hardware.emulators.wire import serve_requests

DT_S = 0.25  # integration step


class Eurotherm3216Emulator:
    """One emulated controller + heated coil.

    Args:
        world: shared `EmulatedWorld`.
        name: device name.
        address: Modbus slave address.
        ambient_c: room temperature.
        gain_c: steady-state rise at 100 % output.
        tau_s: plant time constant; dead_time_s: transport delay of the heat.
        pb_c, ti_s, td_s: PID proportional band (degC), integral and derivative times.

    Attributes:
        registers: raw register values that are plain storage.
        eeprom_writes: register -> number of writes (EEPROM wear check).
        command_log: every request (`LogEntry`, command = "fc03 r1 n1" style text).
    """

    def __init__(self, world, name: str, address: int = 1, *, ambient_c: float = 22.0,
                 gain_c: float = 380.0, tau_s: float = 90.0, dead_time_s: float = 4.0,
                 pb_c: float = 60.0, ti_s: float = 90.0, td_s: float = 0.0):
        self.world = world
        self.name = name
        self.address = address
        self.ambient_c = ambient_c
        self.gain_c = gain_c
        self.tau_s = tau_s
        self.dead_time_s = dead_time_s
        self.pb_c, self.ti_s, self.td_s = pb_c, ti_s, td_s
        self.temp_c = ambient_c
        self.target_c = ambient_c
        self.working_sp_c = ambient_c
        self.ramp_c_min = 0.0
        self.manual = False
        self.manual_output = 0.0
        self.output = 0.0
        self.output_high = 100.0
        self.output_low = 0.0
        self.integral = 0.0
        self.prev_err: float | None = None
        self.sensor_broken = False
        self.heater_failed = False
        self.runaway = False
        self.loop_break = False
        self._saturated_s = 0.0
        self._history: list[float] = [0.0]  # outputs over the dead time
        self.exceptions: list[int] = []
        self.registers: dict[int, int] = {Reg.SP1: 0, Reg.SP2: 0, Reg.ALARM1_THRESHOLD: 0,
                                          Reg.ALARM2_THRESHOLD: 0, Reg.INSTRUMENT_ID: 0x3216}
        self.eeprom_writes: dict[int, int] = {}
        self.command_log: list[LogEntry] = []
        self._t = world.now()

    # -- physics ---------------------------------------------------------------------------
    def true_temperature(self, now: float) -> float:
        self.advance(now)
        return self.temp_c

    def _step(self, dt: float) -> None:
        if self.ramp_c_min > 0:
            step = self.ramp_c_min / 60 * dt
            d = self.target_c - self.working_sp_c
            self.working_sp_c += max(-step, min(step, d))
        else:
            self.working_sp_c = self.target_c
        if self.manual:
            u = self.manual_output
        elif self.sensor_broken:
            u = 0.0  # sensor-break output (3200 default 0 %)
        else:
            err = self.working_sp_c - self.temp_c
            d_err = 0.0 if self.prev_err is None else (err - self.prev_err) / dt
            self.prev_err = err
            p = 100.0 / self.pb_c
            u_unclamped = p * (err + self.integral / self.ti_s + self.td_s * d_err)
            if self.output_low < u_unclamped < self.output_high:  # anti-windup
                self.integral += err * dt
            u = u_unclamped
        u = max(self.output_low, min(self.output_high, u))
        self.output = u
        n_delay = max(1, int(round(self.dead_time_s / DT_S)))
        self._history.append(u)
        while len(self._history) < n_delay + 1:  # pad with the oldest output known
            self._history.insert(0, self._history[0])
        del self._history[: len(self._history) - n_delay - 1]
        delivered = self._history[0]  # output applied dead_time_s ago
        if self.runaway:
            delivered = 100.0
        if self.heater_failed:
            delivered = 0.0
        self.temp_c += dt / self.tau_s * (self.ambient_c - self.temp_c + self.gain_c * delivered / 100)
        if u >= 99.0 and not self.manual and self.working_sp_c - self.temp_c > 5:
            self._saturated_s += dt
            if self.heater_failed and self._saturated_s > 120:
                self.loop_break = True
        else:
            self._saturated_s = 0.0

    def advance(self, now: float) -> None:
        while self._t + DT_S <= now:
            self._step(DT_S)
            self._t += DT_S

    # -- back channel faults ---------------------------------------------------------------
    def _now(self) -> None:
        self.advance(self.world.now())

    def break_sensor(self, broken: bool = True) -> None:
        """Open thermocouple: PV reads full scale, status bit set, output to 0."""
        self._now()
        self.sensor_broken = broken

    def fail_heater(self, failed: bool = True) -> None:
        """Heater element / fuse open: output has no effect (loop break after ~2 min)."""
        self._now()
        self.heater_failed = failed

    def run_away(self, on: bool = True) -> None:
        """Welded SSR: full power whatever the controller says."""
        self._now()
        self.runaway = on

    def slow_settling(self, factor: float = 5.0) -> None:
        """Plant time constant multiplied by `factor` (fouled coil, poor contact)."""
        self._now()
        self.tau_s *= factor

    def overshoot(self, factor: float = 8.0) -> None:
        """Dead time multiplied by `factor`: the tuned PID overshoots and rings."""
        self._now()
        self.dead_time_s *= factor

    def modbus_exception(self, code: int = 2, count: int = 1) -> None:
        """Answer the next `count` requests with Modbus exception `code`."""
        self.exceptions.extend([code] * count)

    def switch_to_manual(self, output_pct: float = 0.0) -> None:
        """Someone pressed AUTO/MAN on the front panel."""
        self._now()
        self.manual = True
        self.manual_output = output_pct

    # -- registers -------------------------------------------------------------------------
    def _status_word(self) -> int:
        w = 0
        if self.manual:
            w |= StatusBit.MANUAL
        if self.sensor_broken:
            w |= StatusBit.SENSOR_BREAK
        if self.loop_break:
            w |= StatusBit.LOOP_BREAK
        hi = self.registers.get(Reg.ALARM1_THRESHOLD, 0)
        if hi and (self.sensor_broken or self.temp_c * 10 > hi):  # alarm 1: full-scale high
            w |= StatusBit.ALARM1
        return int(w)

    def read(self, reg: int) -> int | None:
        s = lambda v: int(round(v * 10))  # noqa: E731 - one-decimal scaling
        if reg == Reg.PV:
            return SENSOR_BREAK_RAW[0] if self.sensor_broken else s(self.temp_c)
        table = {Reg.TARGET_SP: s(self.target_c), Reg.MANUAL_OUTPUT: s(self.manual_output),
                 Reg.WORKING_OUTPUT: s(self.output), Reg.WORKING_SP: s(self.working_sp_c),
                 Reg.COMMS_SP: s(self.target_c), Reg.OUTPUT_HIGH: s(self.output_high),
                 Reg.OUTPUT_LOW: s(self.output_low), Reg.RAMP_RATE: s(self.ramp_c_min),
                 Reg.STATUS: self._status_word(), Reg.AUTO_MANUAL: int(self.manual)}
        if reg in table:
            return table[reg]
        return self.registers.get(reg)

    def write(self, reg: int, raw: int) -> bool:
        value = raw / 10
        if reg in EEPROM_REGISTERS:
            self.eeprom_writes[reg] = self.eeprom_writes.get(reg, 0) + 1
        if reg in (Reg.TARGET_SP, Reg.COMMS_SP, Reg.SP1):
            self.target_c = value
        elif reg == Reg.MANUAL_OUTPUT:
            self.manual_output = max(0.0, min(100.0, value))
        elif reg == Reg.RAMP_RATE:
            if raw < 0:
                return False
            self.ramp_c_min = value
        elif reg == Reg.OUTPUT_HIGH:
            self.output_high = value
        elif reg == Reg.OUTPUT_LOW:
            self.output_low = value
        elif reg == Reg.AUTO_MANUAL:
            if raw not in (0, 1):
                return False
            self.manual = bool(raw)
        elif reg in self.registers:
            self.registers[reg] = raw
        else:
            return False
        return True

    def handle(self, pdu: bytes) -> bytes:
        """Process one request PDU (address and CRC stripped); return the reply PDU."""
        self._now()
        fc = pdu[0]
        self.command_log.append(LogEntry(self.world.now(), self.address, pdu.hex(" "), False))
        if self.exceptions:
            return bytes([fc | 0x80, self.exceptions.pop(0)])
        if fc == 3:
            reg, n = struct.unpack(">HH", pdu[1:5])
            if not 1 <= n <= 125:
                return bytes([0x83, 3])
            values = [self.read(reg + i) for i in range(n)]
            if any(v is None for v in values):
                return bytes([0x83, 2])
            return bytes([3, 2 * n]) + b"".join(struct.pack(">h", max(-32768, min(32767, v)))
                                                for v in values)
        if fc == 6:
            reg, raw = struct.unpack(">Hh", pdu[1:5])
            if self.read(reg) is None or reg in (Reg.PV, Reg.WORKING_OUTPUT, Reg.WORKING_SP,
                                                 Reg.STATUS, Reg.INSTRUMENT_ID):
                return bytes([0x86, 2])
            if not self.write(reg, raw):
                return bytes([0x86, 3])
            return bytes(pdu[:5])
        if fc == 16:
            reg, n, nbytes = struct.unpack(">HHB", pdu[1:6])
            if nbytes != 2 * n or len(pdu) != 6 + nbytes:
                return bytes([0x90, 3])
            for i in range(n):
                (raw,) = struct.unpack_from(">h", pdu, 6 + 2 * i)
                if not self.write(reg + i, raw):
                    return bytes([0x90, 2])
            return bytes(pdu[:5])
        return bytes([fc | 0x80, 1])


class ModbusBus:
    """Several emulated controllers on one Modbus line (a `ByteDevice` for a `Wire`)."""

    def __init__(self, world):
        self.world = world
        self.slaves: dict[int, Eurotherm3216Emulator] = {}
        self._buf = b""
        self.garbage: list[bytes] = []

    def add(self, heater: Eurotherm3216Emulator, *, stage: str = "") -> Eurotherm3216Emulator:
        if heater.address in self.slaves:
            raise ValueError(f"slave address {heater.address} already used on this line")
        self.slaves[heater.address] = heater
        self.world.heaters[heater.name] = heater
        if stage == "core":
            self.world.core_heater = heater.name
        elif stage == "stage2":
            self.world.stage2_heater = heater.name
        return heater

    def corrupt_checksum(self, frame: bytes) -> bytes:
        b = bytearray(frame)
        b[-1] ^= 0xFF
        return bytes(b)

    @staticmethod
    def request_length(buf: bytes) -> int | None:
        """Length of the request at the start of `buf` from its function code, or None."""
        if len(buf) < 2:
            return None
        fc = buf[1]
        if fc in (3, 4, 6, 5):
            return 8
        if fc in (15, 16):
            return None if len(buf) < 7 else 9 + buf[6]
        return 8  # unknown function: assume the common 8-byte form

    def feed(self, data: bytes) -> list[bytes]:
        return serve_requests(self, data, self._take_request)

    def _take_request(self, out: list[bytes]) -> bool:
        n = self.request_length(self._buf)
        if n is None or len(self._buf) < n:
            return False
        frame, self._buf = self._buf[:n], self._buf[n:]
        if crc16_modbus(frame[:-2]) != frame[-2] | (frame[-1] << 8):
            self.garbage.append(frame)  # a real slave stays silent on a bad CRC
            self._buf = b""
            return False
        slave = self.slaves.get(frame[0])
        if slave is not None:
            out.append(with_crc(bytes([frame[0]]) + slave.handle(frame[1:-2])))
        return True
