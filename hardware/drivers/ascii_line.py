"""Shared grammar helpers of the ASCII line drivers (SC10, VICI, Numato, Harvard).

Pure functions: a framing function for replies that end in a prompt, splitting a reply
into its text lines, and the index/number formats these devices use. Each driver module
cites its own manual; this module holds no device facts.
"""

from __future__ import annotations

from collections.abc import Callable

from hardware.errors import ProtocolError


def prompt_framer(prompt: bytes, *, optional_tail: bytes = b"") -> Callable[[bytes], tuple[int, int] | None]:
    """A framing function: the frame ends at the first `prompt` byte(s), plus
    `optional_tail` when it has already arrived (SC10's prompt is "> ": some readers stop
    at ">" and see the space as the start of the next reply; we accept both)."""

    def find(buf: bytes) -> tuple[int, int] | None:
        idx = buf.find(prompt)
        if idx < 0:
            return None
        end = idx + len(prompt)
        if optional_tail and buf[end:end + len(optional_tail)] == optional_tail:
            end += len(optional_tail)
        return 0, end

    return find


def line_framer(terminator: bytes = b"\r") -> Callable[[bytes], tuple[int, int] | None]:
    """A framing function: one line ending in `terminator` (leading CR/LF skipped)."""

    def find(buf: bytes) -> tuple[int, int] | None:
        start = len(buf) - len(buf.lstrip(b"\r\n"))
        idx = buf.find(terminator, start)
        return None if idx < 0 else (start, idx + len(terminator))

    return find


def text_lines(raw: bytes, *, strip_prompt: str = "") -> list[str]:
    """Non-empty text lines of a reply (split on CR and LF, stripped), with a trailing
    prompt removed. Raises ProtocolError for bytes that are not printable ASCII."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError("reply is not ASCII", raw=raw) from None
    if any(not (c.isprintable() or c in "\r\n") for c in text):
        raise ProtocolError("reply has control characters", raw=raw)
    if strip_prompt and text.rstrip().endswith(strip_prompt):
        text = text.rstrip()[: -len(strip_prompt)]
    return [line.strip() for line in text.replace("\n", "\r").split("\r") if line.strip()]


def drop_echo(lines: list[str], command: str, raw: bytes) -> list[str]:
    """Remove the echoed command (first line). Noise before the echo is tolerated (the
    line ends with the command); a first line that is not the echo is a garbled reply."""
    if not lines or not lines[0].endswith(command):
        raise ProtocolError(f"reply does not echo {command!r}", raw=raw)
    return lines[1:]
