"""Emulated Ocean Optics STS spectrometer speaking the Ocean Binary Protocol.

Counts come from the shared world: lamp through the flow cell (transmission 10^-A of the
simulator's absorbance for the current flows and temperature), or PL under excitation (of
the sample, or of the reference dye when the cell selector is on "reference"), or dark
only; 14-bit full scale 16383, Gaussian read noise and shot noise, seeded per scan.
Faults through methods: saturation, lamp failure, bubbles, dark drift, not-ready (error 7),
unexpected reset (error 9).
"""

from __future__ import annotations

import struct

import numpy as np

from hardware.drivers.ocean_obp import (
    FLAG_ACK,
    FLAG_NACK,
    FLAG_REQUEST_ACK,
    FLAG_RESPONSE,
    FOOTER,
    GET_NL_COEFF,
    GET_NL_COEFF_COUNT,
    GET_RAW_SPECTRUM_NOW,
    GET_SERIAL,
    GET_WL_COEFF,
    GET_WL_COEFF_COUNT,
    HEADER_LEN,
    MAX_PAYLOAD,
    SET_ITIME_USEC,
    SET_TRIG_MODE,
    START,
    STS_ITIME_RANGE_US,
    STS_MAX_COUNTS,
    STS_PIXELS,
    build_obp_message,
    parse_obp_message,
    polynomial_wavelengths,
)
from hardware.emulators.ne1000 import LogEntry
from hardware.emulators.wire import serve_requests
from hardware.emulators.world import sts_wavelength_coefficients
from hardware.errors import ChecksumError, ProtocolError

DARK_COUNTS = 1500.0
READ_NOISE = 6.0
LAMP_COUNTS_PER_MS = 110.0   # peak lamp counts per ms of integration
# PL counts per second per unit pl_photon_rate: the simulator's detector scale
# (simulator.spectrometer pl_counts_scale default), so emulated and simulated PL agree.
PL_COUNTS_PER_S = 4.0e7
NONLINEARITY = [1.0, 2.1e-6, -3.0e-10, 1.2e-14, 0.0, 0.0, 0.0, 0.0]
DEFAULT_ITIME_US = 100_000


class ObpSpectrometerEmulator:
    """An emulated STS on its own serial line (a `ByteDevice` for a `Wire`).

    Attributes:
        command_log: every request (`LogEntry`, command = message type in hex).
        scans: number of spectra taken (seeds the noise).
    """

    def __init__(self, world, name: str = "sts", *, serial: str = "S12345"):
        self.world = world
        self.name = name
        self.serial = serial
        self.integration_time_us = DEFAULT_ITIME_US
        self.trigger_mode = 0
        self.coefficients = sts_wavelength_coefficients()
        self.wavelengths_nm = polynomial_wavelengths(self.coefficients, STS_PIXELS)
        self.saturating = False
        self.lamp_ok = True
        self.bubble_scans = 0
        self.dark_drift_counts_per_s = 0.0
        self._drift_t0 = world.now()
        self.not_ready = 0
        self.reset_pending = False
        self.scans = 0
        self.command_log: list[LogEntry] = []
        self._buf = b""
        world.spectrometer = self

    # -- back channel faults ---------------------------------------------------------------
    def saturate(self, on: bool = True) -> None:
        """Detector overexposed (gain x40): counts clip at 16383."""
        self.saturating = on

    def fail_lamp(self, failed: bool = True) -> None:
        """Lamp off / burnt out: no light in lamp mode."""
        self.lamp_ok = not failed

    def bubbles(self, scans: int = 3) -> None:
        """Gas bubbles in the cell for the next `scans` spectra (scattering, lost light)."""
        self.bubble_scans = scans

    def drift_dark(self, counts_per_s: float = 0.5) -> None:
        """Dark level rises linearly from now (detector warming)."""
        self._drift_t0 = self.world.now()
        self.dark_drift_counts_per_s = counts_per_s

    def make_not_ready(self, count: int = 1) -> None:
        """Answer the next `count` spectrum requests with NACK error 7 (not ready)."""
        self.not_ready = count

    def reset_unexpectedly(self) -> None:
        """Device rebooted: the next request gets NACK error 9; settings back to defaults."""
        self.reset_pending = True
        self.integration_time_us = DEFAULT_ITIME_US
        self.trigger_mode = 0

    # -- optics ----------------------------------------------------------------------------
    def spectrum(self) -> np.ndarray:
        """One acquisition with the current world state, uint16 (1024,)."""
        self.scans += 1
        rng = np.random.default_rng([self.world.seed, self.scans])
        ms = self.integration_time_us / 1000.0
        wl = self.wavelengths_nm
        dark = DARK_COUNTS + self.dark_drift_counts_per_s * (self.world.now() - self._drift_t0)
        signal = np.zeros(STS_PIXELS)
        light = self.world.light
        if light in ("lamp", "excitation") and self.world.cell == "sample":
            optics = self.world.optics(wl)
        else:
            optics = None
        if light == "lamp" and self.lamp_ok:
            lamp = LAMP_COUNTS_PER_MS * ms * np.exp(-0.5 * ((wl - 560.0) / 140.0) ** 2)
            transmission = 10.0 ** (-optics.absorbance) if optics is not None else 1.0
            signal = lamp * transmission
        elif light == "excitation" and optics is not None:
            signal = PL_COUNTS_PER_S * ms * 1e-3 * optics.pl_photon_rate
        elif light == "excitation" and self.world.cell == "reference":
            signal = PL_COUNTS_PER_S * ms * 1e-3 * self.world.reference_pl_rate(wl)
        if self.bubble_scans > 0:
            self.bubble_scans -= 1
            signal = signal * rng.uniform(0.15, 0.6) + rng.normal(0, 0.05, STS_PIXELS) * signal
        if self.saturating:
            signal = signal * 40.0 + 0.3 * STS_MAX_COUNTS
        noisy = dark + signal + rng.normal(0, 1, STS_PIXELS) * np.sqrt(READ_NOISE ** 2 + np.abs(signal))
        return np.clip(np.rint(noisy), 0, STS_MAX_COUNTS).astype(np.uint16)

    # -- protocol --------------------------------------------------------------------------
    def corrupt_checksum(self, frame: bytes) -> bytes:
        """Re-send the frame claiming an MD5 checksum that does not match."""
        b = bytearray(frame)
        b[22] = 1
        b[-20:-4] = b"\xff" * 16
        return bytes(b)

    def _reply(self, mtype: int, regarding: int, *, immediate: bytes = b"", payload: bytes = b"",
               flags: int = FLAG_RESPONSE, error: int = 0) -> bytes:
        return build_obp_message(mtype, immediate=immediate, payload=payload, flags=flags,
                                 error=error, regarding=regarding)

    def _nack(self, mtype: int, regarding: int, error: int) -> bytes:
        return self._reply(mtype, regarding, flags=FLAG_RESPONSE | FLAG_NACK, error=error)

    def handle(self, raw: bytes) -> bytes | None:
        now = self.world.now()
        try:
            msg = parse_obp_message(raw)
        except ChecksumError:
            return self._nack(struct.unpack_from("<I", raw, 8)[0], 0, 3)
        except ProtocolError:
            return self._nack(struct.unpack_from("<I", raw, 8)[0] if len(raw) >= 12 else 0, 0, 1)
        mt, reg = msg.message_type, msg.regarding
        self.command_log.append(LogEntry(now, 0, f"{mt:#010x}", False))
        ack = bool(msg.flags & FLAG_REQUEST_ACK)
        if self.reset_pending:
            self.reset_pending = False
            return self._nack(mt, reg, 9)
        if mt == GET_SERIAL:
            return self._reply(mt, reg, immediate=self.serial.encode("ascii")[:16])
        if mt == GET_WL_COEFF_COUNT:
            return self._reply(mt, reg, immediate=bytes([len(self.coefficients)]))
        if mt == GET_WL_COEFF or mt == GET_NL_COEFF:
            table = self.coefficients if mt == GET_WL_COEFF else NONLINEARITY
            if len(msg.immediate) != 1:
                return self._nack(mt, reg, 5)
            i = msg.immediate[0]
            if i >= len(table):
                return self._nack(mt, reg, 6)
            return self._reply(mt, reg, immediate=struct.pack("<f", table[i]))
        if mt == GET_NL_COEFF_COUNT:
            return self._reply(mt, reg, immediate=bytes([len(NONLINEARITY)]))
        if mt == SET_ITIME_USEC:
            if len(msg.immediate) != 4:
                return self._nack(mt, reg, 5)
            (us,) = struct.unpack("<I", msg.immediate)
            if not STS_ITIME_RANGE_US[0] <= us <= STS_ITIME_RANGE_US[1]:
                return self._nack(mt, reg, 6)
            self.integration_time_us = us
            return self._reply(mt, reg, flags=FLAG_RESPONSE | FLAG_ACK) if ack else None
        if mt == SET_TRIG_MODE:
            if len(msg.immediate) != 1:
                return self._nack(mt, reg, 5)
            self.trigger_mode = msg.immediate[0]
            return self._reply(mt, reg, flags=FLAG_RESPONSE | FLAG_ACK) if ack else None
        if mt == GET_RAW_SPECTRUM_NOW:
            if self.not_ready > 0:
                self.not_ready -= 1
                return self._nack(mt, reg, 7)
            return self._reply(mt, reg, payload=self.spectrum().astype("<u2").tobytes())
        return self._nack(mt, reg, 2)

    def feed(self, data: bytes) -> list[bytes]:
        return serve_requests(self, data, self._take_message)

    def _take_message(self, out: list[bytes]) -> bool:
        start = self._buf.find(START)
        if start < 0:
            self._buf = self._buf[-1:] if self._buf.endswith(START[:1]) else b""
            return False
        self._buf = self._buf[start:]
        if len(self._buf) < HEADER_LEN:
            return False
        (remaining,) = struct.unpack_from("<I", self._buf, 40)
        if remaining < 20 or remaining > MAX_PAYLOAD:
            out.append(self._nack(0, 0, 5))
            self._buf = self._buf[2:]
            return True
        end = HEADER_LEN + remaining
        if len(self._buf) < end:
            return False
        raw, self._buf = self._buf[:end], self._buf[end:]
        if raw[-4:] != FOOTER:
            out.append(self._nack(struct.unpack_from("<I", raw, 8)[0], 0, 1))
            return True
        reply = self.handle(raw)
        if reply is not None:
            out.append(reply)
        return True
