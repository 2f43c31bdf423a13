"""The dashboard's ASGI app (Starlette): read-only routes over a `RunCatalog`.

Routes (GET/HEAD only; any other method is 405, so nothing can write):
  /                                 the HTML dashboard (polls the JSON routes)
  /api/runs                         JSON list, one `RunView.summary()` per run
  /api/runs/{name}                  the same object for one run
  /api/runs/{name}/events?after=SEQ the recorded events with seq > SEQ (JSON; paged);
                                    with `Accept: text/event-stream`, a server-sent event
                                    stream that follows the run (id = seq, event = kind)
  /api/runs/{name}/view             traces, Pareto pairs, failures, latest spectra, ...
  /static/plotly.min.js             Plotly from the installed `plotly` package (no CDN)

With a `token`, every request must carry it, as `Authorization: Bearer TOKEN` or
`?token=TOKEN` (the page passes its own query token on to the API), else 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sdl.serve.page import page_html
from sdl.serve.runs import MAX_EVENTS_PER_CALL, RunCatalog


class TokenMiddleware:
    """Refuse (401) every HTTP request that does not carry the token."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._ok(Request(scope)):
            resp = JSONResponse({"error": "missing or wrong token; pass ?token=... or "
                                          "'Authorization: Bearer ...'"}, status_code=401)
            await resp(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _ok(self, request: Request) -> bool:
        given = request.query_params.get("token")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        return given is not None and secrets.compare_digest(given.encode(), self.token.encode())


def _plotly_js() -> bytes:
    return resources.files("plotly").joinpath("package_data/plotly.min.js").read_bytes()


def create_app(paths: list[Path], *, token: str | None = None, poll_ms: int = 1000) -> Starlette:
    """The dashboard app over the run directories (or folders of them) in `paths`."""
    catalog = RunCatalog(paths)
    plotly_cache: dict[str, bytes] = {}

    def index(request: Request) -> Response:
        return HTMLResponse(page_html(poll_ms, token), headers={"Cache-Control": "no-store"})

    def plotly(request: Request) -> Response:
        if "js" not in plotly_cache:
            plotly_cache["js"] = _plotly_js()
        return Response(plotly_cache["js"], media_type="application/javascript",
                        headers={"Cache-Control": "max-age=3600"})

    def runs(request: Request) -> Response:
        return _json([v.summary() for v in catalog.views()])

    def _view_or_404(request: Request) -> Any:
        v = catalog.get(request.path_params["name"])
        if v is None:
            return None, _json({"error": f"no run named {request.path_params['name']!r}"}, 404)
        return v, None

    def run(request: Request) -> Response:
        v, err = _view_or_404(request)
        return err or _json(v.summary())

    async def events(request: Request) -> Response:
        v, err = await run_in_threadpool(_view_or_404, request)
        if err:
            return err
        try:
            after = int(request.query_params.get("after", "0"))
            limit = int(request.query_params.get("limit", str(MAX_EVENTS_PER_CALL)))
        except ValueError:
            return _json({"error": "after and limit must be whole numbers (after=SEQ)"}, 400)
        if after < 0 or not 1 <= limit <= MAX_EVENTS_PER_CALL:
            return _json({"error": f"need after >= 0 and 1 <= limit <= {MAX_EVENTS_PER_CALL}"},
                         400)
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(_sse(request, v, after), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-store"})
        return _json(await run_in_threadpool(v.events_after, after, limit))

    async def _sse(request: Request, v: Any, after: int):
        """Server-sent events: every event with seq > after, then new ones as they land
        (the record is re-read every poll interval); a comment line keeps it alive."""
        last = after
        while not await request.is_disconnected():
            await run_in_threadpool(v.refresh)
            batch = await run_in_threadpool(v.events_after, last, MAX_EVENTS_PER_CALL)
            for ev in batch["events"]:
                yield (f"id: {ev['seq']}\nevent: {ev['kind']}\n"
                       f"data: {json.dumps(ev, separators=(',', ':'))}\n\n")
                last = ev["seq"]
            if not batch["events"]:
                yield ": waiting\n\n"
                await asyncio.sleep(poll_ms / 1000)

    def view(request: Request) -> Response:
        v, err = _view_or_404(request)
        return err or _json(v.view())

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/static/plotly.min.js", plotly, methods=["GET"]),
        Route("/api/runs", runs, methods=["GET"]),
        Route("/api/runs/{name}", run, methods=["GET"]),
        Route("/api/runs/{name}/events", events, methods=["GET"]),
        Route("/api/runs/{name}/view", view, methods=["GET"]),
    ]
    middleware = [Middleware(TokenMiddleware, token=token)] if token else []
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        catalog.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.catalog = catalog
    return app


def _json(obj: Any, status: int = 200) -> Response:
    return JSONResponse(obj, status_code=status, headers={"Cache-Control": "no-store"})
