"""`sdl serve [RUN_DIR ...] [--host 127.0.0.1] [--port 8765] [--token T]`: a live,
read-only web dashboard of one run, several, or folders of runs (default `runs/`).

Binds 127.0.0.1 unless told otherwise; any other address needs `--token`, which every
request must then carry (`?token=` or `Authorization: Bearer`). Never writes to a run.
"""

from __future__ import annotations

import argparse

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="live read-only web dashboard of runs")
    p.add_argument("run_dirs", nargs="*", metavar="RUN_DIR",
                   help="run directories or folders of them (default: runs)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; others need --token)")
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    p.add_argument("--token", help="secret every request must carry (?token=...)")
    p.add_argument("--poll-ms", type=int, default=1000,
                   help="how often the page polls for new events, ms (default 1000)")
    p.set_defaults(func=run)


def check_args(host: str, port: int, token: str | None, poll_ms: int) -> None:
    """Raise SdlError for an unsafe or impossible setting."""
    from sdl.errors import SdlError

    if host not in LOCAL_HOSTS and not token:
        raise SdlError(f"--host {host} exposes the dashboard beyond this machine; give "
                       "--token SECRET as well (every request must then carry it)")
    if token is not None and len(token) < 8:
        raise SdlError("--token must be at least 8 characters")
    if not 0 <= port <= 65535:
        raise SdlError(f"--port {port} is not a TCP port (0..65535)")
    if not 100 <= poll_ms <= 60_000:
        raise SdlError(f"--poll-ms {poll_ms} must be between 100 and 60000")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sdl.errors import SdlError

    check_args(args.host, args.port, args.token, args.poll_ms)
    paths = [Path(p) for p in (args.run_dirs or ["runs"])]
    missing = [str(p) for p in paths if not p.is_dir()]
    if missing:
        raise SdlError(f"no such directory: {', '.join(missing)} (give run directories or "
                       "folders holding them)")
    try:
        import uvicorn

        from sdl.serve.app import create_app
    except ImportError as e:
        raise SdlError(f"sdl serve needs the 'serve' extra ({e.name} is missing): "
                       "pip install 'qd-sdl[serve]'") from None
    app = create_app(paths, token=args.token, poll_ms=args.poll_ms)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"sdl serve: dashboard of {', '.join(map(str, paths))} at http://{shown}:{args.port}/"
          + ("?token=..." if args.token else "") + " (read-only; Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
