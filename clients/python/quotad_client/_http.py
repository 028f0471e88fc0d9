"""A small thread-safe keep-alive HTTP transport over http.client.

One pool of idle connections per node URL. A pooled connection is checked
before reuse (a socket that became readable while idle has been closed by
the server, or is broken) and replaced. A request that fails on a reused
connection before any answer arrived is sent again on a fresh one, when
sending it twice is harmless (reads, PUT, DELETE, keyed debits, imports).
With several node URLs, a node that refuses connections is skipped and the
next one is tried.
"""
import http.client
import json
import select
import socket
import ssl
import threading
from decimal import Decimal
from urllib.parse import urlsplit

from .errors import QuotadUnavailable

USER_AGENT = "quotad-python-client/0.1"
UNAVAILABLE_STATUSES = (502, 503, 504)


class Response:
    __slots__ = ("status", "headers", "body", "url", "_json")

    def __init__(self, status, headers, body, url):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body
        self.url = url
        self._json = None

    def json(self):
        """The body parsed as JSON (numbers with a fraction as Decimal), or None."""
        if self._json is None and self.body:
            try:
                self._json = json.loads(self.body, parse_float=Decimal)
            except ValueError:
                self._json = None
        return self._json

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


def _dropped(conn):
    """Whether an idle pooled connection is no longer usable."""
    sock = conn.sock
    if sock is None:
        return False  # not connected: connects on the next request
    try:
        if hasattr(select, "poll"):
            p = select.poll()
            p.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
            return bool(p.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)
    except (OSError, ValueError):
        return True


class _NodePool:
    def __init__(self, url, timeout, size, ssl_context):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be http://host:port or https://host:port, got {url!r}")
        self.url = url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.size = size
        self.ssl_context = ssl_context
        self._idle = []
        self._lock = threading.Lock()
        self._closed = False

    def acquire(self):
        """(connection, reused)."""
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if _dropped(conn):
                    conn.close()
                    continue
                return conn, conn.sock is not None
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self.ssl_context or ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return conn, False

    def release(self, conn):
        with self._lock:
            if not self._closed and len(self._idle) < self.size:
                self._idle.append(conn)
                return
        conn.close()

    def close(self):
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def idle_count(self):
        with self._lock:
            return len(self._idle)


class _NotDelivered(Exception):
    """The request certainly did not reach the server (no connection)."""


class _Dropped(Exception):
    """The connection failed after the request may have been sent."""


class Transport:
    def __init__(self, base_urls, timeout=10.0, pool_size=8, ssl_context=None):
        if isinstance(base_urls, str):
            base_urls = [u.strip() for u in base_urls.split(",") if u.strip()]
        if not base_urls:
            raise ValueError("base_url must name at least one quotad node")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive")
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self.timeout = timeout
        self._nodes = [_NodePool(u, timeout, pool_size, ssl_context) for u in base_urls]
        self._preferred = 0
        self._lock = threading.Lock()

    @property
    def urls(self):
        return [n.url for n in self._nodes]

    def close(self):
        for node in self._nodes:
            node.close()

    def idle_connections(self):
        return sum(n.idle_count() for n in self._nodes)

    def request(self, method, path, body=None, token=None, repeatable=True):
        """Send one request; returns a Response for any HTTP answer except
        502/503/504, which raise QuotadUnavailable like a failed connection.

        repeatable: whether sending the request twice is harmless; only then
        is it sent again after a connection dropped without an answer.
        """
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else body.encode("utf-8")
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        with self._lock:
            start = self._preferred
        failures = []
        count = len(self._nodes)
        for i in range(count):
            node = self._nodes[(start + i) % count]
            try:
                resp = self._send(node, method, path, data, headers, repeatable)
            except _NotDelivered as e:
                failures.append(f"{node.url}: {e}")
                continue
            except _Dropped as e:
                if repeatable:
                    failures.append(f"{node.url}: {e}")
                    continue
                raise QuotadUnavailable(
                    f"quotad at {node.url} did not answer {method} {path}: {e}; "
                    "the request may or may not have been applied",
                    outcome_unknown=True) from None
            with self._lock:
                self._preferred = (start + i) % count
            if resp.status in UNAVAILABLE_STATUSES:
                problem = resp.json() if isinstance(resp.json(), dict) else None
                detail = (problem or {}).get("detail") or resp.body[:200].decode("utf-8", "replace")
                raise QuotadUnavailable(
                    f"quotad unavailable: {node.url} answered {resp.status}"
                    + (f": {detail}" if detail else ""),
                    status=resp.status, retry_after=_retry_after(resp), problem=problem)
            return resp
        raise QuotadUnavailable("quotad unreachable: " + "; ".join(failures))

    def _send(self, node, method, path, data, headers, repeatable):
        target = node.prefix + path
        for attempt in (0, 1):
            conn, reused = node.acquire()
            sent = False
            try:
                if conn.sock is None:
                    try:
                        conn.connect()
                    except (socket.timeout, TimeoutError):
                        raise _NotDelivered(f"connect timed out after {node.timeout} s") from None
                    except OSError as e:
                        raise _NotDelivered(_describe(e)) from None
                conn.request(method, target, body=data, headers=headers)
                sent = True
                resp = conn.getresponse()
                payload = resp.read()
            except (_NotDelivered, _Dropped):
                conn.close()
                raise
            except (socket.timeout, TimeoutError):
                conn.close()
                raise _Dropped(f"no answer within {node.timeout} s") from None
            except (http.client.HTTPException, OSError) as e:
                conn.close()
                # A reused connection the server had already closed: the
                # request never got processed in all likelihood, but only a
                # repeatable request may be sent again.
                if reused and attempt == 0 and (repeatable or not sent):
                    continue
                if not sent:
                    raise _NotDelivered(_describe(e)) from None
                raise _Dropped(_describe(e)) from None
            resp_headers = {k.lower(): v for k, v in resp.getheaders()}
            if resp.will_close:
                conn.close()
            else:
                node.release(conn)
            return Response(resp.status, resp_headers, payload, node.url)
        raise _NotDelivered("connection failed twice")  # pragma: no cover


def _describe(e):
    if isinstance(e, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    text = str(e) or type(e).__name__
    return f"{type(e).__name__}: {text}" if not text.startswith(type(e).__name__) else text


def _retry_after(resp):
    value = resp.header("Retry-After")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
