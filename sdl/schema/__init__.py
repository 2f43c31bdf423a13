"""File schemas (pydantic v2): campaign files and rig files.

A leaf module: pure data and validation, importable from any layer.
"""

from sdl.schema.campaign import (
    OUTCOME_NAMES,
    Budget,
    Campaign,
    InputConstraint,
    Objective,
    OutcomeConstraint,
    Parameter,
    Strategy,
)
from sdl.schema.load import detect_kind, load_campaign, load_rig, load_toml_file
from sdl.schema.rig import RigFile, RigLimits

__all__ = [
    "OUTCOME_NAMES",
    "Budget",
    "Campaign",
    "InputConstraint",
    "Objective",
    "OutcomeConstraint",
    "Parameter",
    "RigFile",
    "RigLimits",
    "Strategy",
    "detect_kind",
    "load_campaign",
    "load_rig",
    "load_toml_file",
]
