"""Pure pieces of a FlowRig run plan: conditions -> inlet flows, flush time, and the
photon stream of a photon file. No device I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sdl.vocab.flows import flow_chemistry, flows_from_conditions


def plan_flows(conditions: Mapping[str, Any], rig_file: Any, material: str) -> dict[str, float]:
    """Inlet flows, uL/min, for `conditions` on this rig (`sdl.vocab.flows`, stock
    concentrations from the rig file's pumps where given, else the material's preset)."""
    stocks = {p.inlet: p.stock_molar for p in rig_file.pumps() if p.stock_molar > 0}
    return flows_from_conditions(conditions, flow_chemistry(material, stocks),
                                 rig_file.reactor.volume_ul)


def flush_seconds(flows: Mapping[str, float], reactor: Any) -> float:
    """n (V_core / Q_core + V_stage2 / Q_total) * 60 s: `flush_volumes` residence times."""
    q_total = float(sum(flows.values()))
    q_core = q_total - flows.get("shell", 0.0) - flows.get("exchange", 0.0)
    if q_core <= 0:
        return 0.0
    t = reactor.volume_ul / q_core + (reactor.stage2_volume_ul / q_total if q_total > 0 else 0)
    return reactor.flush_volumes * t * 60.0


def photon_stream(data: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Photon timestamps, channels and sync period of a parsed photon file, as recorded.

    Args:
        data: `sdl.analysis.photon_files.PhotonData`-like (timestamps_ps (N,) int64,
            channels (N,) uint8, sync_period_ps).

    Returns:
        (timestamps_ps (N,) int64, channels (N,) uint8 as the time tagger numbered them,
        sync_period_ps). Which channels are detectors (and which one a time-tagged sync)
        is decided at analysis time, by the photon front end (`sdl.analysis.photon_frontend`).
    """
    return (np.asarray(data.timestamps_ps, dtype=np.int64),
            np.asarray(data.channels, dtype=np.uint8),
            int(getattr(data, "sync_period_ps", 0) or 0))


def plan_lab_time(previous: Mapping[str, Any] | None, conditions: Mapping[str, Any],
                  rig_file: Any, material: str, photons: bool = False) -> Any:
    """Estimated lab time of `conditions` after `previous` on this rig
    (`sdl.vocab.labtime.lab_time` with the rig file's ramp, band, stable time, flush
    volumes and reactor volumes: the model the simulator's clock uses too)."""
    from sdl.vocab.labtime import FlowTiming, lab_time

    return lab_time(previous, conditions, plan_flows(conditions, rig_file, material),
                    FlowTiming.from_rig_file(rig_file), photons)

