"""Local fake Anthropic and OpenAI HTTP APIs for tests, speaking each vendor's wire format.

A ``FakeVendor`` is a stdlib HTTP server on 127.0.0.1 (random port) in a daemon thread. Each
test scripts a queue of replies; every request is recorded (path, lower-cased headers, JSON
body) so tests can assert on the model sent, the auth header and how many retries happened.

    with FakeVendor("anthropic") as fake:
        fake.script(fake.rate_limited(), fake.ok('{"text": "hi", "key_points": []}'))
        client = AnthropicClient(api_key="k", model="m", base_url=fake.base_url)
        ...
        assert len(fake.requests) == 2

Error replies carry ``retry-after: 0`` and ``retry-after-ms`` of a few milliseconds so the
SDKs' retry waits (which honour those headers) keep tests fast.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Vendor = Literal["anthropic", "openai"]

_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_OPENAI_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


@dataclass
class Reply:
    """One scripted response. ``text`` set: a successful completion whose answer is ``text``.
    Otherwise ``status``/``body`` (bytes sent verbatim) and ``headers``. ``delay_s`` waits first."""

    status: int = 200
    text: str | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


class FakeVendor:
    """A scriptable fake of one vendor's API. Use as a context manager (or start()/close())."""

    def __init__(self, vendor: Vendor) -> None:
        self.vendor: Vendor = vendor
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeVendor:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown() (and so every test teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # cuts scripted delays short
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeVendor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as the SDK's base_url (or ANTHROPIC_BASE_URL / OPENAI_BASE_URL)."""
        root = f"http://127.0.0.1:{self.port}"
        return root if self.vendor == "anthropic" else f"{root}/v1"

    # ---- scripting ---------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies, served in order; once empty every request gets a non-retryable 500."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    def ok(self, text: str, delay_s: float = 0.0) -> Reply:
        """A successful completion whose answer text is ``text``."""
        return Reply(text=text, delay_s=delay_s)

    def ok_json(self, payload: Any) -> Reply:
        return self.ok(json.dumps(payload))

    def error(
        self, status: int, message: str = "scripted error", retry_after_ms: int | None = 5
    ) -> Reply:
        """A vendor-formatted error; ``retry_after_ms`` None sends no retry headers."""
        if self.vendor == "anthropic":
            kind = _ANTHROPIC_ERROR_TYPES.get(status, "api_error")
            body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            kind, code = _OPENAI_ERROR_TYPES.get(status, ("server_error", None))
            body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        headers = {}
        if retry_after_ms is not None:
            headers = {"retry-after": "0", "retry-after-ms": str(retry_after_ms)}
        return Reply(status=status, body=json.dumps(body).encode(), headers=headers)

    def rate_limited(self, retry_after_ms: int | None = 5) -> Reply:
        return self.error(429, "Rate limited. Please slow down.", retry_after_ms)

    def server_error(self, status: int = 500) -> Reply:
        return self.error(status, "Internal server error")

    def slow(self, delay_s: float, text: str = "{}") -> Reply:
        """A success that arrives only after ``delay_s`` (beyond the client's timeout)."""
        return self.ok(text, delay_s=delay_s)

    def malformed_body(self) -> Reply:
        """HTTP 200 with a JSON content type but a body that is not JSON."""
        return Reply(status=200, body=b'{"id": "msg_1", "content": [tru')

    # ---- wire format -------------------------------------------------------------------------

    def _success_body(self, text: str, request_json: Any) -> dict[str, Any]:
        model = request_json.get("model", "unknown") if isinstance(request_json, dict) else ""
        n = len(self.requests)
        if self.vendor == "anthropic":
            return {
                "id": f"msg_fake_{n}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 12, "output_tokens": 34},
            }
        return {
            "id": f"chatcmpl-fake{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46},
        }

    def _expected_path(self) -> str:
        return "/v1/messages" if self.vendor == "anthropic" else "/v1/chat/completions"

    def _next_reply(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        body = {"error": {"type": "api_error", "message": "fake: no scripted reply left"}}
        return Reply(
            status=500, body=json.dumps(body).encode(), headers={"x-should-retry": "false"}
        )


def _make_handler(fake: FakeVendor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = None
            with fake._lock:
                fake.requests.append(
                    RecordedRequest(
                        method="POST",
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        json=payload,
                    )
                )
            if self.path.split("?")[0] != fake._expected_path():
                self._send(404, json.dumps({"error": {"message": "no such path"}}).encode(), {})
                return
            reply = fake._next_reply()
            if reply.delay_s and fake._stop.wait(reply.delay_s):
                return
            body = reply.body
            if reply.text is not None:
                body = json.dumps(fake._success_body(reply.text, payload)).encode()
            self._send(reply.status, body, reply.headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test); nothing to answer

    return Handler
