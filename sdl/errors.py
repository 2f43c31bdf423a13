"""Typed exceptions of the `sdl` spine.

Every error the CLI can meet from bad user input derives from `SdlError`; the CLI prints
its message on one line and exits with `exit_code`, never with a traceback.
"""

from __future__ import annotations


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


class AnalysisInputError(SdlError):
    """An input file for `sdl analyze` is malformed; the message names where."""


class HardwareUnavailable(SdlError):
    """A device named in a rig file cannot be reached."""

    exit_code = 3
