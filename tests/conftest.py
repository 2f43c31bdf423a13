"""Test-suite wide settings.

Hypothesis: local runs explore new random examples every time (that is how the fuzz tests
keep finding bugs); with `CI` set (`.ci/run` sets it) the examples are derandomized, so a
landing is judged on a fixed, reproducible set and a new fuzz finding never blocks it
by chance. A failure prints the reproduction blob either way.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
