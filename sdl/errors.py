"""Typed exceptions of the `sdl` spine, and the map from every layer's error base to an
exit code.

Each layer has its own base: `SdlError` (the spine, here), `sdl.analysis.errors.AnalysisError`,
`hardware.errors.HardwareLayerError`, `surrogates.errors.SurrogateError`. None derives from
another. The CLI and the loop print any of them on one line and exit with its `exit_code`
(`exit_code_of`), never with a traceback.
"""

from __future__ import annotations

import functools


class SdlError(Exception):
    """Base class: a problem the user can act on. `str(err)` says what and what to do."""

    exit_code = 2


class CampaignError(SdlError):
    """A campaign or rig file is unreadable or invalid. Carries one line per problem."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = list(problems)
        lines = [f"{path}: {p}" for p in self.problems] or [f"{path}: invalid"]
        super().__init__("\n".join(lines))


class RecordError(SdlError):
    """The run directory or its record is missing, locked, or inconsistent."""


class RunDirectoryLocked(RecordError):
    """Another process holds the run directory's lock file."""


class TellError(SdlError, ValueError):
    """An ask/tell `tell()` was given outcomes the campaign cannot take; nothing recorded."""


class ResumeRefused(SdlError):
    """`sdl resume` (or `Campaign.resume`) will not continue this run: another kind of
    driver made it. Nothing was recorded."""


class RigIdentityChanged(SdlError):
    """The devices answering are not the ones the run was recorded with."""


class HardwareUnavailable(SdlError):
    """A device named in a rig file cannot be reached."""

    exit_code = 3


@functools.cache
def _layer_bases() -> tuple[type[BaseException], ...]:
    from hardware.errors import HardwareLayerError
    from sdl.analysis.errors import AnalysisError
    from surrogates.errors import SurrogateError

    return (SdlError, AnalysisError, HardwareLayerError, SurrogateError)


def exit_code_of(exc: BaseException) -> int | None:
    """The exit code of an error a user can act on (an instance of one layer's error
    base: its `exit_code`), or None for anything else (a bug)."""
    if isinstance(exc, _layer_bases()):
        return int(getattr(exc, "exit_code", 2))
    return None
