"""Shared helpers for the optimiser tests: small campaigns built in code."""

from __future__ import annotations

from typing import Any

from sdl.schema.campaign import Campaign


def make_campaign(**overrides: Any) -> Campaign:
    """A small valid campaign; keyword arguments replace top-level sections."""
    data: dict[str, Any] = {
        "campaign": {"name": "t", "seed": 5},
        "budget": {"experiments": 30},
        "parameters": [
            {"name": "temperature_c", "low": 220, "high": 300},
            {"name": "residence_time_s", "low": 10, "high": 600, "scale": "log"},
        ],
        "objectives": [{"name": "plqy", "goal": "maximize"}],
        "strategy": {"kind": "bo", "initial": 4, "batch": 1},
    }
    data.update(overrides)
    return Campaign.model_validate(data)


