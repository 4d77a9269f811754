"""An OpenAI-compatible chat server on loopback that answers with scripted drafts, for the tests of
generated answers (no real language model runs in the tests)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    draft: str = ""
    status: int = 200
    delay: float = 0.0
    # Pieces of this many characters when the client streams, to cut sentences and markers apart.
    piece: int = 7
    requests: list[dict[str, Any]] = field(default_factory=list)
    # When set, writes the draft from the request instead of ``draft``.
    respond: Callable[[dict[str, Any]], str] | None = None


@contextmanager
def llm_stub() -> Iterator[tuple[str, Script]]:
    """(base URL, script): set ``script.draft``/``status``/``delay`` before each question."""
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append(body)
            time.sleep(script.delay)
            if script.status != 200:
                self._send(script.status, "application/json", json.dumps({"error": "scripted failure"}).encode())
                return
            draft = script.respond(body) if script.respond else script.draft
            if not body.get("stream"):
                message = {"choices": [{"index": 0, "message": {"role": "assistant", "content": draft}}]}
                self._send(200, "application/json", json.dumps(message).encode())
                return
            pieces = [draft[i : i + script.piece] for i in range(0, len(draft), script.piece)]
            events = [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
            stream = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
            self._send(200, "text/event-stream", stream.encode())

        def _send(self, status: int, content_type: str, data: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout case)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    finally:
        server.shutdown()
        server.server_close()
