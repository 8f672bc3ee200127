"""A stub OpenAI-compatible chat-completions server on 127.0.0.1 (real HTTP, one reply per path prefix)."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "sk-test-7c1d9e0f-never-shown"
GOOD = {"label": "light vs dark", "summary": "PC3 separates light from dark samples.",
        "description": "Light-treated samples (AUC 0.9) sit at the positive end."}
HTML_LABEL = {**GOOD, "label": '<img src=x onerror="window.__xss=1">light & <b>dark</b>'}
#: what the stub answers per path: (HTTP status, message content or raw body, delay in seconds).
REPLIES = {
    "/good": (200, json.dumps(GOOD), 0),
    "/fenced": (200, "```json\n" + json.dumps(GOOD) + "\n```", 0),
    "/slow": (200, json.dumps(GOOD), 3),
    "/error": (500, None, 0),
    "/prose": (200, "Sure! PC3 is about light.", 0),
    "/missing": (200, json.dumps({"label": "light", "summary": "About light."}), 0),
    "/long": (200, json.dumps({**GOOD, "label": "x" * 500}), 0),
    "/html": (200, json.dumps(HTML_LABEL), 0),
    "/garbage": (200, b"<html>not an API</html>", 0),
}


class _Stub(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        prefix = "/" + self.path.strip("/").split("/")[0]
        status, content, delay = REPLIES[prefix]
        time.sleep(delay)
        if status != 200:
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"internal error")
            return
        raw = content if isinstance(content, bytes) else json.dumps(
            {"id": "x", "object": "chat.completion", "model": "stub",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        try:
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def log_message(self, *args):  # keep the test output clean
        pass


@contextmanager
def serving_stub():
    """Yield ``(base URL, list of received requests)`` while the stub serves in a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests
    finally:
        server.shutdown()
        server.server_close()
