"""A webhook receiver on a real socket, and the two verifiers our deliveries must pass: seed 000's
receiver logic verbatim (HMAC over `t.body` with the whole secret string, 300 s window,
compare_digest) and a Standard Webhooks verifier written from that spec."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_S = 300


def seed000_verify(secret: str, headers: dict[str, str], raw: bytes, now: float | None = None) -> bool:
    """Seed 000's Flask handler, minus Flask: True where it would not abort(401)."""
    sig = headers.get("x-fc-signature", "")
    try:
        ts = sig.split("t=")[1].split(",")[0]
        given = sig.split("v1=")[1]
    except IndexError:
        return False
    expected = hmac.new(secret.encode(), f"{ts}.{raw.decode()}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given, expected):
        return False
    return not abs((time.time() if now is None else now) - int(ts)) > TOLERANCE_S


def standard_verify(secret: str, headers: dict[str, str], raw: bytes, now: float | None = None) -> bool:
    """Standard Webhooks: HMAC-SHA256 keyed with base64-decoded secret over `id.timestamp.body`,
    base64, any of the space-separated `v1,<sig>` entries may match; timestamp within tolerance."""
    message_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not message_id or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_S:
        return False
    key = base64.b64decode(secret.split("_", 1)[1] if secret.startswith("whsec_") else secret)
    expected = base64.b64encode(
        hmac.new(key, f"{message_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    ).decode()
    for entry in headers.get("webhook-signature", "").split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Records every POST; answers `status` (500 = a receiver that is down)."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    status: int = 200
    # Answers for the next requests, in order, before `status` applies again.
    script: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook/ringside"

    def events(self, event_type: str | None = None, customer_id: str | None = None) -> list[Received]:
        with self.lock:
            found = list(self.received)
        return [
            r
            for r in found
            if (event_type is None or r.event["type"] == event_type)
            and (customer_id is None or (r.event["data"].get("customer") or {}).get("id") == customer_id)
        ]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @classmethod
    def start(cls) -> Receiver:
        holder: list[Receiver] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length", "0")), 1 << 20)
                body = self.rfile.read(length)
                receiver = holder[0]
                with receiver.lock:
                    receiver.received.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body, time.time())
                    )
                    status = receiver.script.pop(0) if receiver.script else receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        receiver = cls(server)
        holder.append(receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return receiver
