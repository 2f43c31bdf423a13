"""A local HTTP receiver for `json://127.0.0.1:PORT/` Apprise notifications in tests: a
real server on a real socket that stores each POSTed JSON body (no mock of Apprise)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonSink:
    """Context manager; `.url` is the json:// URL, `.posts` the decoded bodies."""

    def __init__(self, status: int = 200):
        self.posts: list[dict] = []
        self.status = status
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n)
                try:
                    sink.posts.append(json.loads(body))
                except ValueError:
                    sink.posts.append({"raw": body.decode(errors="replace")})
                self.send_response(sink.status)
                self.end_headers()

            def log_message(self, *a):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"json://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> JsonSink:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
