"""Emulated devices that speak the same bytes as the real ones, backed by the simulator.

- `world.EmulatedWorld`: the one shared physical state (clock, flows, temperatures, optics).
- `ne1000.Ne1000Bus`, `eurotherm.ModbusBus`, `ocean.ObpSpectrometerEmulator`: byte-level
  devices (bytes in -> bytes out) with fault injection through Python methods.
- `wire.Wire`: one emulated serial line; injects transport faults (no reply, late reply,
  stale bytes, truncated frame, bad CRC, noise, port vanishes).
- `pty_server.PtyServer`: serves a Wire on a real pseudo-terminal; `protocol_emu` serves
  it in-process as the pyserial URL `emu://<name>`.
"""
