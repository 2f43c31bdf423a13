"""Test-suite wide settings.

Hypothesis: local runs explore new random examples every time (that is how the fuzz tests
keep finding bugs); with `CI` set (`.ci/run` sets it) the examples are derandomized, so a
landing is judged on a fixed, reproducible set and a new fuzz finding never blocks it
by chance. A failure prints the reproduction blob either way.

Test order: pytest-randomly (a test extra) shuffles the tests on every run, locally and in
CI, so state leaking from one test into another shows up instead of hiding behind a fixed
order. The seed is printed at the end of the run; `pytest --randomly-seed=N`
replays that order, `-p no:randomly` keeps the file order.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the test-order seed even under -q (pytest-randomly prints it only in the header)."""
    seed = getattr(config.option, "randomly_seed", None)
    if seed is not None and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(f"test order: random, --randomly-seed={seed} "
                                    f"(replay this order with --randomly-seed={seed})")
