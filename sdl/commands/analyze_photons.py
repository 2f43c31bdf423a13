"""Placeholder until the photons analysis lands."""

from __future__ import annotations

import argparse


def register(kinds: argparse._SubParsersAction) -> None:
    return None
