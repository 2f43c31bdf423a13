"""Many simulated campaigns at once: `sdl sweep SWEEP.toml`.

A sweep file names campaign files, strategy variants and seeds; every combination is one
task, run as an ordinary campaign in its own run directory (recorded, resumable with
`sdl resume`, auditable with `sdl audit`, replayable with `sdl replay --verify`).

Modules, one job each:
    spec      the sweep file (pydantic) -> the list of `SweepTask`s; TOML output of the
              effective campaign of each task.
    task      run (or resume, or skip) one task in its run directory; its summary row.
    executor  run tasks serially, on a local Dask process cluster, or on an existing Dask
              scheduler; results come back in task order, identical whatever the engine.
    summary   the sweep's summary table (CSV and JSON).
"""
