"""A real HTTP receiver on 127.0.0.1 for webhook tests: verifies signatures, can fail or stall on demand."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Records every POST; `mode` decides the answer: "ok" (204), "fail" (500), "slow" (sleeps `delay` first)."""

    def __init__(self, secret: str):
        self.secret = secret
        self.mode = "ok"
        self.delay = 2.0
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                timestamp = self.headers.get("X-Timeline-Timestamp", "")
                expected = "sha256=" + hmac.new(receiver.secret.encode(), f"{timestamp}.{body}".encode(),
                                                hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(expected, self.headers.get("X-Timeline-Signature", ""))
                receiver.received.append({"headers": dict(self.headers), "body": body, "json": json.loads(body),
                                          "signed": signed, "mode": receiver.mode})
                if receiver.mode == "slow":
                    time.sleep(receiver.delay)
                status = 204 if receiver.mode == "ok" and signed else 500 if receiver.mode != "redirect" else 302
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivery_ids(self) -> list[str]:
        """X-Timeline-Delivery of every request received, in order."""
        return [r["headers"]["X-Timeline-Delivery"] for r in self.received]
