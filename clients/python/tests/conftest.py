"""Fixtures: a real quotad per test module (tests/harness), a stub HTTP
server for failure modes quotad does not produce on demand, and helpers."""
import http.server
import os
import socket
import sys
import threading
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(CLIENT_ROOT))
sys.path.insert(0, CLIENT_ROOT)
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

from quotad_process import QuotadProcess, quotad_binary  # noqa: E402

ADMIN_TOKEN = "admin-secret"
GATEWAY_TOKEN = "gateway-secret"


def _require_binary():
    if not os.access(quotad_binary(), os.X_OK):
        pytest.skip(f"quotad binary not built: {quotad_binary()} (build it, or set QUOTAD_BIN)")


@pytest.fixture(scope="module")
def quotad():
    """A single quotad node with the testing clock and both tokens."""
    _require_binary()
    server = QuotadProcess(admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def open_quotad():
    """A quotad node without tokens."""
    _require_binary()
    server = QuotadProcess()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


def set_clock(server, now):
    headers = {"Authorization": f"Bearer {server.admin_token}"} if server.admin_token else None
    status, _, body = server.request("PUT", "/v1/testing/clock", {"now": now}, headers=headers)
    assert status == 200, (status, body)


@pytest.fixture
def client_id():
    """A client id no other test uses."""
    return "c-" + uuid.uuid4().hex[:12]


@pytest.fixture
def billing(quotad):
    from quotad_client import ApiBilling

    api = ApiBilling(base_url=quotad.url, admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN,
                     time_zone="UTC", timeout=10)
    try:
        yield api
    finally:
        api.close()


# --- a stub HTTP server ----------------------------------------------------------

class StubServer:
    """Answers from a script: a list of callables (handler) -> None, one per
    request, in order. Runs in a thread on 127.0.0.1; stop() in cleanup."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.connections = 0
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                stub.connections += 1

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.requests.append((self.command, self.path, dict(self.headers), body))
                action = stub.script.pop(0) if stub.script else None
                if action is None:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                action(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def answer(status, body=b"", headers=None, content_type="application/json"):
    def act(handler):
        data = body.encode() if isinstance(body, str) else body
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)
    return act


def hang_up(handler):
    """Read the request, then close the connection without an answer."""
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def stub_server():
    servers = []

    def make(script):
        s = StubServer(script)
        servers.append(s)
        return s
    try:
        yield make
    finally:
        for s in servers:
            s.stop()


@pytest.fixture
def dead_url():
    """A loopback URL where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_url():
    """A loopback URL that accepts connections (backlog) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    try:
        yield f"http://127.0.0.1:{s.getsockname()[1]}"
    finally:
        s.close()
