"""Ocean Optics / Ocean Insight STS spectrometer over the Ocean Binary Protocol (RS-232).

Source: Ocean Optics STS data sheet and "Ocean Binary Protocol" command reference;
message codes as used by python-seabreeze (pyseabreeze).

Message layout (little-endian): 44-byte header
  0  u16 start bytes 0xC1 0xC0     2  u16 protocol version 0x1100
  4  u16 flags                     6  u16 error number
  8  u32 message type             12  u32 regarding (echoed)
 16  6 reserved bytes             22  u8 checksum type (0 none, 1 MD5)
 23  u8 immediate-data length     24  16 bytes immediate data
 40  u32 bytes remaining = payload length + 20
then payload, 16-byte checksum (MD5 of header + payload when type 1), footer
0xC5 0xC4 0xC3 0xC2. Minimum message 64 bytes.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import numpy as np

from hardware.errors import ChecksumError, CommandRejected, ProtocolError, tag_device
from hardware.retry import RetryPolicy
from hardware.transport import Port, PortClient, open_port
from sdl.vocab.constants import STS_FULL_SCALE_COUNTS

START = b"\xc1\xc0"
FOOTER = b"\xc5\xc4\xc3\xc2"
VERSION = 0x1100
HEADER_LEN = 44
MIN_MESSAGE = 64
MAX_PAYLOAD = 1 << 20

FLAG_RESPONSE = 0x0001
FLAG_ACK = 0x0002
FLAG_REQUEST_ACK = 0x0004
FLAG_NACK = 0x0008
FLAG_HW_EXCEPTION = 0x0010

GET_SERIAL = 0x00000100
GET_RAW_SPECTRUM_NOW = 0x00101100
SET_ITIME_USEC = 0x00110010
SET_TRIG_MODE = 0x00110110
GET_WL_COEFF_COUNT = 0x00180100
GET_WL_COEFF = 0x00180101
GET_NL_COEFF_COUNT = 0x00181100
GET_NL_COEFF = 0x00181101

ERRORS = {1: "protocol error", 2: "unknown message type", 3: "bad checksum",
          4: "message too large", 5: "bad payload length", 6: "bad payload",
          7: "device not ready", 8: "unknown checksum type", 9: "device reset unexpectedly",
          10: "too many buses", 11: "out of memory", 12: "command fails", 13: "internal error"}
NEXT_STEP = {7: "wait for the acquisition to finish, then query again",
             9: "the spectrometer reset: re-send integration time and trigger mode"}

STS_PIXELS = 1024
STS_MAX_COUNTS = STS_FULL_SCALE_COUNTS  # 14-bit
STS_ITIME_RANGE_US = (10, 85_000_000)


@dataclass(frozen=True)
class ObpMessage:
    """A decoded OBP message.

    Attributes:
        message_type: u32 message code.
        flags: header flags.
        error: error number (nonzero with NACK).
        regarding: u32 user field echoed by the device.
        immediate: immediate data (up to 16 bytes, already cut to its length).
        payload: bytes after the header (excluding checksum and footer).
        checksum_type: 0 none, 1 MD5.
    """

    message_type: int
    flags: int = 0
    error: int = 0
    regarding: int = 0
    immediate: bytes = b""
    payload: bytes = b""
    checksum_type: int = 0


# ---------------------------------------------------------------------------- pure functions
def build_obp_message(message_type: int, *, immediate: bytes = b"", payload: bytes = b"",
                      flags: int = 0, error: int = 0, regarding: int = 0,
                      checksum_type: int = 0) -> bytes:
    """Encode one OBP message. Immediate data (<= 16 bytes) goes in the header."""
    if len(immediate) > 16:
        raise ValueError("immediate data is at most 16 bytes; use payload")
    if checksum_type not in (0, 1):
        raise ValueError("checksum_type must be 0 (none) or 1 (MD5)")
    header = struct.pack("<2sHHHII6sBB16sI", START, VERSION, flags, error, message_type,
                         regarding, b"\0" * 6, checksum_type, len(immediate),
                         immediate.ljust(16, b"\0"), len(payload) + 20)
    body = header + payload
    checksum = hashlib.md5(body).digest() if checksum_type == 1 else b"\0" * 16
    return body + checksum + FOOTER


def find_obp_frame(buf: bytes) -> tuple[int, int] | None:
    """Framer: start bytes, 44-byte header, then `bytes remaining` more bytes."""
    start = buf.find(START)
    if start < 0:
        return None
    if len(buf) < start + HEADER_LEN:
        return None
    (remaining,) = struct.unpack_from("<I", buf, start + 40)
    if remaining < 20 or remaining > MAX_PAYLOAD + 20:
        raise ProtocolError(f"OBP bytes-remaining {remaining} out of range", raw=buf[start:start + 64])
    end = start + HEADER_LEN + remaining
    return (start, end) if len(buf) >= end else None


def parse_obp_message(raw: bytes) -> ObpMessage:
    """Decode and check one complete OBP message (framing, footer, checksum).

    Raises:
        ProtocolError: bad start bytes, version, lengths or footer.
        ChecksumError: MD5 mismatch.
    """
    raw = bytes(raw)
    if len(raw) < MIN_MESSAGE:
        raise ProtocolError(f"OBP message shorter than {MIN_MESSAGE} bytes", raw=raw)
    (start, version, flags, error, mtype, regarding, _res, ctype, ilen, imm,
     remaining) = struct.unpack_from("<2sHHHII6sBB16sI", raw, 0)
    if start != START:
        raise ProtocolError("OBP start bytes are not C1 C0", raw=raw[:64])
    if version != VERSION:
        raise ProtocolError(f"OBP protocol version {version:#06x}, expected 0x1100", raw=raw[:64])
    if remaining != len(raw) - HEADER_LEN or remaining < 20:
        raise ProtocolError(f"OBP bytes-remaining {remaining} != {len(raw) - HEADER_LEN}", raw=raw[:64])
    if raw[-4:] != FOOTER:
        raise ProtocolError("OBP footer is not C5 C4 C3 C2", raw=raw[-24:])
    if ilen > 16:
        raise ProtocolError(f"OBP immediate length {ilen} > 16", raw=raw[:64])
    if ctype not in (0, 1):
        raise ProtocolError(f"unknown OBP checksum type {ctype}", raw=raw[:64])
    body, checksum = raw[:-20], raw[-20:-4]
    if ctype == 1 and hashlib.md5(body).digest() != checksum:
        raise ChecksumError("OBP MD5 checksum mismatch", raw=raw[:64])
    return ObpMessage(mtype, flags, error, regarding, imm[:ilen], raw[HEADER_LEN:-20], ctype)


def polynomial_wavelengths(coefficients: list[float] | np.ndarray, pixels: int = STS_PIXELS) -> np.ndarray:
    """Pixel wavelengths (nm), shape (pixels,): sum_k c_k * i**k for pixel index i."""
    i = np.arange(pixels, dtype=np.float64)
    return np.polynomial.polynomial.polyval(i, np.asarray(coefficients, dtype=np.float64))


# ------------------------------------------------------------------------------------ driver
class OceanObpSpectrometer(PortClient):
    """An STS-class spectrometer on a serial line.

    Args:
        url: pyserial URL.
        baud: baud rate (STS RS-232 default 115200).
        timeout_s: reply deadline for short commands; spectra add the integration time.
        retry: policy for queries (all commands here are idempotent).
        name: device name in logs and errors.
    """

    saturation_counts = float(STS_MAX_COUNTS)  # 14-bit detector

    def __init__(self, url: str, *, baud: int = 115200, timeout_s: float = 1.0,
                 retry: RetryPolicy | None = None, name: str = ""):
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.name = name or f"obp@{url}"
        self.integration_time_us = 100_000
        self._port: Port | None = open_port(url, baud, timeout_s)

    def transact(self, message_type: int, immediate: bytes = b"", *, ack: bool = False,
                 timeout_s: float | None = None) -> ObpMessage:
        """Send one request and return the device's reply (retried by the policy).

        Args:
            message_type: OBP message code.
            immediate: request immediate data.
            ack: set the request-ACK flag (for set commands, which otherwise have no reply).
            timeout_s: override the reply deadline.
        """
        request = build_obp_message(message_type, immediate=immediate,
                                    flags=FLAG_REQUEST_ACK if ack else 0)

        def once() -> ObpMessage:
            raw = self.port.exchange(request, find_obp_frame, timeout_s or self.timeout_s,
                                     device=self.name)
            with tag_device(self.name):
                msg = parse_obp_message(raw)
            if msg.flags & (FLAG_NACK | FLAG_HW_EXCEPTION) or msg.error:
                raise CommandRejected(f"NACK error {msg.error} ({ERRORS.get(msg.error, 'unknown')}) "
                                      f"to message {message_type:#010x}", code=msg.error,
                                      device=self.name, next_step=NEXT_STEP.get(msg.error, ""))
            if msg.message_type != message_type:
                raise ProtocolError(f"reply to {msg.message_type:#010x}, expected {message_type:#010x}",
                                    raw=raw[:64], device=self.name)
            return msg
        return self.retry.call(once, f"{self.name} {message_type:#010x}")

    def serial_number(self) -> str:
        """Device serial number (ASCII)."""
        msg = self.transact(GET_SERIAL)
        data = msg.immediate or msg.payload
        return data.split(b"\0", 1)[0].decode("ascii", "replace")

    def set_integration_time_us(self, us: int) -> None:
        """Integration time in microseconds (STS: 10 µs to 85 s)."""
        lo, hi = STS_ITIME_RANGE_US
        if not lo <= int(us) <= hi:
            raise ValueError(f"integration time {us} µs outside {lo}..{hi}")
        self.transact(SET_ITIME_USEC, struct.pack("<I", int(us)), ack=True)
        self.integration_time_us = int(us)

    def set_trigger_mode(self, mode: int = 0) -> None:
        """Trigger mode (0 = normal / free running)."""
        self.transact(SET_TRIG_MODE, bytes([mode & 0xFF]), ack=True)

    def _float_list(self, count_type: int, item_type: int) -> list[float]:
        count = self.transact(count_type).immediate
        if len(count) < 1:
            raise ProtocolError("coefficient count reply empty", device=self.name)
        out = []
        for i in range(count[0]):
            imm = self.transact(item_type, bytes([i])).immediate
            if len(imm) < 4:
                raise ProtocolError("coefficient reply shorter than 4 bytes", raw=imm, device=self.name)
            out.append(struct.unpack_from("<f", imm)[0])
        return out

    def wavelength_coefficients(self) -> list[float]:
        """Wavelength polynomial coefficients c0..cn (nm per pixel-index power)."""
        return self._float_list(GET_WL_COEFF_COUNT, GET_WL_COEFF)

    def wavelengths(self) -> np.ndarray:
        """Pixel wavelengths, nm, shape (1024,)."""
        return polynomial_wavelengths(self.wavelength_coefficients())

    def nonlinearity_coefficients(self) -> list[float]:
        """Nonlinearity-correction polynomial coefficients (counts domain)."""
        return self._float_list(GET_NL_COEFF_COUNT, GET_NL_COEFF)

    def raw_spectrum(self) -> np.ndarray:
        """Acquire one spectrum now: uint16 counts, shape (1024,), 14-bit (<= 16383)."""
        timeout = self.timeout_s + 2 * self.integration_time_us * 1e-6
        msg = self.transact(GET_RAW_SPECTRUM_NOW, timeout_s=timeout)
        if len(msg.payload) != 2 * STS_PIXELS:
            raise ProtocolError(f"spectrum payload {len(msg.payload)} bytes, expected {2 * STS_PIXELS}",
                                raw=msg.payload[:32], device=self.name)
        counts = np.frombuffer(msg.payload, dtype="<u2").astype(np.uint16)
        if counts.max(initial=0) > STS_MAX_COUNTS:
            raise ProtocolError("spectrum counts exceed 14 bits", raw=msg.payload[:32], device=self.name)
        return counts
