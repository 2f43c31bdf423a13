"""`expected_exchange` for our own tests: the conformance helper plugin authors import
(`hardware.conformance`), re-exported under its old path."""

from hardware.conformance import ScriptedDevice, expected_exchange

__all__ = ["ScriptedDevice", "expected_exchange"]
