"""The shared vocabulary: conditions, raw measurement, failure, flows and the consumer-side
Rig / LightPath protocols.

A leaf: imports nothing else of ours (numpy and the standard library only), so the
simulator, the hardware, the analysis core and the loop can all depend on it without
depending on each other. Import from the submodules:

| module | what |
|---|---|
| `sdl.vocab.conditions` | `ConditionSpec`, `CONDITIONS`, `defaults`, `complete` |
| `sdl.vocab.measurement` | `RawMeasurement`, `Failure`, `FAILURE_KINDS` |
| `sdl.vocab.flows` | `FlowChemistry`, `flow_chemistry`, conditions <-> inlet flows |
| `sdl.vocab.rig` | `Rig`, `RigLimits`, `LightPath` protocols, `check_rig` |
"""
