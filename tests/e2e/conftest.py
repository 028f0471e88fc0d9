"""Fixtures and small helpers for the end-to-end tests.

Every test talks HTTP to a real quotad binary started by QuotadProcess
(tests/harness). Nodes run with the testing clock, so time moves only when a
test sets or advances it; every test sets the clock before it relies on it.

Numbers in answers are parsed exactly: JSON fractions become `Num` (a Decimal
that remembers its literal text), so tests can compare values exactly and
also check how the server wrote them (`lit(x)` gives "487.5", never
"487.49999999" or "4.875E2").
"""
import http.client
import json
import os
import subprocess
import sys
import urllib.parse
from datetime import datetime, timezone
from decimal import Decimal

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "harness"))

from quotad_process import QuotadProcess, free_port, quotad_binary  # noqa: E402,F401

ADMIN_TOKEN = "e2e-admin-token-5f2b"
GATEWAY_TOKEN = "e2e-gateway-token-91c7"

# The instant most tests use: a Thursday, mid-morning UTC.
NOW = "2026-12-03T10:00:00Z"
ANCHOR = "2022-01-01T00:00:00"  # the seed's example anchor (a Saturday)


# --------------------------------------------------------------------------
# exact numbers

class Num(Decimal):
    """A JSON fraction: exact value plus the literal the server wrote."""
    literal = None


def _parse_float(text):
    n = Num(text)
    n.literal = text
    return n


def lit(value):
    """The literal text of a JSON number as the server wrote it."""
    if isinstance(value, Num):
        return value.literal
    if isinstance(value, bool) or not isinstance(value, int):
        raise AssertionError(f"not a JSON number: {value!r}")
    return str(value)


def D(text):
    return Decimal(text)


# --------------------------------------------------------------------------
# times

def epoch(iso):
    """Epoch seconds of an ISO-8601 instant with an offset (e.g. ...Z)."""
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    assert dt.tzinfo is not None, iso
    return int(dt.timestamp())


def utc_instant(text):
    """Epoch seconds of an ISO-8601 UTC string from the server; asserts UTC."""
    assert isinstance(text, str), text
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert dt.tzinfo is not None and dt.utcoffset().total_seconds() == 0, \
        f"not an ISO-8601 UTC time: {text!r}"
    return int(dt.timestamp())


def iso(epoch_seconds):
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# HTTP

class Reply:
    def __init__(self, status, headers, payload):
        self.status = status
        self.headers = headers  # lower-case names
        self.raw = payload
        self.text = payload.decode("utf-8", "replace")
        self.json = None
        if payload.strip()[:1] in (b"{", b"["):
            try:
                self.json = json.loads(payload, parse_float=_parse_float)
            except ValueError:
                pass

    def __getitem__(self, key):
        assert isinstance(self.json, dict), f"no JSON object in {self!r}"
        return self.json[key]

    def get(self, key, default=None):
        return self.json.get(key, default) if isinstance(self.json, dict) else default

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        hdrs = {k: v for k, v in self.headers.items()
                if k.startswith(("x-", "ratelimit", "retry", "content-type", "allow", "www-"))}
        return f"<HTTP {self.status} {hdrs} {self.text[:600]!r}>"


def bearer(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


def client_path(client):
    return "/v1/clients/" + urllib.parse.quote(client, safe="")


def with_query(path, **query):
    query = {k: v for k, v in query.items() if v is not None}
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


def call(node, method, path, body=None, headers=None, token=None, timeout=60.0):
    """One request; body is a dict/list (sent as JSON) or str/bytes (sent as is)."""
    hdrs = dict(headers or {})
    hdrs.update(bearer(token))
    status, resp_headers, payload = node.request(method, path, body=body, headers=hdrs,
                                                 timeout=timeout, raw=True)
    return Reply(status, resp_headers, payload)


def expect_status(reply, status):
    if status is not None:
        assert reply.status == status, f"expected {status}, got {reply!r}"
    return reply


def assert_problem(reply, status, *field_names):
    """An RFC 9457 problem of `status` whose detail (or `field`) names one of field_names."""
    assert reply.status == status, f"expected {status}, got {reply!r}"
    ctype = reply.header("content-type", "")
    assert ctype.split(";")[0].strip().lower() == "application/problem+json", reply
    body = reply.json
    assert isinstance(body, dict), reply
    for member in ("type", "title", "status", "detail"):
        assert member in body, f"problem member {member!r} missing: {reply!r}"
    assert body["status"] == status, reply
    assert isinstance(body["type"], str) and isinstance(body["title"], str), reply
    assert isinstance(body["detail"], str) and body["detail"], reply
    if field_names:
        detail = body["detail"].lower()
        field = str(body.get("field", "")).lower()
        assert any(n.lower() in detail or n.lower() == field for n in field_names), \
            f"problem does not name {field_names}: {reply!r}"
    return body


# --------------------------------------------------------------------------
# API helpers

def set_clock(node, when):
    r = call(node, "PUT", "/v1/testing/clock", {"now": when}, token=node.admin_token)
    assert r.status in (200, 204), f"setting the testing clock failed: {r!r}"
    return r


def advance(node, seconds):
    r = call(node, "POST", "/v1/testing/clock:advance", {"seconds": seconds},
             token=node.admin_token)
    assert r.status in (200, 204), f"advancing the testing clock failed: {r!r}"
    return r


def quota(duration, limit, start=ANCHOR, tz="UTC"):
    q = {"duration": duration, "credit_limit": limit, "start_date": start}
    if tz is not None:
        q["time_zone"] = tz
    return q


def put_quotas(node, client, quotas, expect=200, token=None):
    r = call(node, "PUT", client_path(client) + "/quotas", {"quotas": quotas},
             token=token if token is not None else node.admin_token)
    return expect_status(r, expect)


def get_status(node, client, expect=200):
    return expect_status(call(node, "GET", client_path(client) + "/quotas"), expect)


def debit_body(credits=None, key=None, dry_run=None):
    body = {}
    if credits is not None:
        body["credits"] = credits
    if key is not None:
        body["idempotency_key"] = key
    if dry_run is not None:
        body["dry_run"] = dry_run
    return body or None


def debit(node, client, credits=None, key=None, dry_run=None, expect=None, token=None):
    """POST /v1/clients/{id}/usage (no body at all when every argument is None)."""
    r = call(node, "POST", client_path(client) + "/usage", debit_body(credits, key, dry_run),
             token=token if token is not None else node.gateway_token)
    return expect_status(r, expect)


def debit_n(node, client, n, credits=None):
    for _ in range(n):
        debit(node, client, credits, expect=200)


def usage(node, client, frm=None, to=None, expect=200, **query):
    path = with_query(client_path(client) + "/usage", **{"from": frm, "to": to}, **query)
    return expect_status(call(node, "GET", path), expect)


def ledger_total(node, client, frm=None, to=None):
    return usage(node, client, frm, to)["total"]


def delete_usage(node, client, frm=None, to=None, expect=200):
    path = with_query(client_path(client) + "/usage", **{"from": frm, "to": to})
    return expect_status(call(node, "DELETE", path, token=node.admin_token), expect)


def delete_client(node, client, expect=204):
    return expect_status(call(node, "DELETE", client_path(client), token=node.admin_token), expect)


def batch(node, requests, expect=200):
    r = call(node, "POST", "/v1/usage:batch", {"requests": requests}, token=node.gateway_token)
    return expect_status(r, expect)


def authorize(node, client, credits=None, query="", method="GET", expect=None):
    hdrs = {"X-Client-Id": client}
    if credits is not None:
        hdrs["X-Quota-Credits"] = str(credits)
    hdrs.update(bearer(node.gateway_token))
    return expect_status(call(node, method, "/v1/authorize" + query, headers=hdrs), expect)


def find_quota(doc, duration):
    doc = doc.json if isinstance(doc, Reply) else doc
    found = [q for q in doc["quotas"] if q["duration"] == duration]
    assert len(found) == 1, f"expected one {duration} quota in {doc}"
    return found[0]


def window(doc, duration):
    """(window_start, window_end) of a definition, as epoch seconds; checks `reset`."""
    q = find_quota(doc, duration)
    start, end = utc_instant(q["window_start"]), utc_instant(q["window_end"])
    assert q["reset"] == end, f"reset {q['reset']} is not window_end {q['window_end']}"
    return start, end


def used(node, client, duration):
    return find_quota(get_status(node, client), duration)["used"]


def snapshot(node, client):
    """What a refused or rejected request must leave unchanged."""
    return get_status(node, client).json, ledger_total(node, client)


def violated_durations(problem):
    out = []
    for item in problem["violated"]:
        out.append(item["duration"] if isinstance(item, dict) else item)
    return sorted(out)


def header_items(value):
    """Split a structured-field list header into items (no commas inside items here)."""
    return [item.strip() for item in value.split(",") if item.strip()]


def policy_items(value):
    """'"day";q=500;w=86400, "hour";q=10;w=3600' -> {"day": {"q": "500", "w": "86400"}, ...}"""
    out = {}
    for item in header_items(value):
        name, *params = [part.strip() for part in item.split(";")]
        assert len(name) > 2 and name[0] == name[-1] == '"', f"not a quoted name: {item!r}"
        assert name[1:-1] not in out, f"repeated item in {value!r}"
        out[name[1:-1]] = dict(param.split("=", 1) for param in params)
    return out


def renew_epoch(value):
    """quota_renew as epoch seconds: accepts epoch seconds or an ISO/seed-style UTC time."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    assert isinstance(value, str), value
    text = value.replace(" ", "T")
    if not (text.endswith("Z") or "+" in text[10:] or "-" in text[10:]):
        text += "Z"
    return utc_instant(text)


# --------------------------------------------------------------------------
# keep-alive connections for load

class Conn:
    """One keep-alive HTTP/1.1 connection to a node."""

    def __init__(self, node, timeout=60.0):
        self.node = node
        self.conn = http.client.HTTPConnection("127.0.0.1", node.http_port, timeout=timeout)

    def send(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=hdrs)
        resp = self.conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())

    def debit(self, client, credits=None):
        return self.send("POST", client_path(client) + "/usage", debit_body(credits),
                         bearer(self.node.gateway_token))

    def close(self):
        self.conn.close()


# --------------------------------------------------------------------------
# processes

def run_quotad(args, timeout=30.0, env=None):
    """Runs the binary to completion (for --help and bad options); never leaves it running."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([quotad_binary()] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout, env=full_env)


def _require_binary():
    if not os.access(quotad_binary(), os.X_OK):
        pytest.fail(f"quotad binary not found at {quotad_binary()} (build it, or set QUOTAD_BIN)")


@pytest.fixture
def make_node():
    """Factory: make_node(**QuotadProcess kwargs) -> started node; all stopped at teardown."""
    _require_binary()
    nodes = []

    def make(start=True, **kwargs):
        p = QuotadProcess(**kwargs)
        nodes.append(p)
        return p.start() if start else p

    yield make
    for p in nodes:
        p.cleanup()


@pytest.fixture
def node(make_node):
    return make_node()


@pytest.fixture
def admin_node(make_node):
    return make_node(admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN)


@pytest.fixture(scope="module")
def shared_node():
    """One node for a whole module; tests on it use their own client ids."""
    _require_binary()
    p = QuotadProcess()
    try:
        p.start()
        yield p
    finally:
        p.cleanup()


@pytest.fixture
def client_id(request):
    """A client id unique to the test (for tests sharing a node)."""
    return "c-" + request.node.name.replace("/", "_")[:200]


# --------------------------------------------------------------------------
# clusters (tests/e2e/test_cluster*.py, test_gateway*.py)
#
# Cluster nodes run on the real clock: a node that joins takes over clients
# as soon as it is in, before a test could set a testing clock on it, and
# every node judges its own clients by its own clock. The quotas of cluster
# tests are YEAR quotas anchored half a year back (CLUSTER_ANCHOR), so no
# window ends while a test runs.

import time  # noqa: E402
from datetime import timedelta  # noqa: E402

CLUSTER_ANCHOR = (datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
                  - timedelta(days=182)).strftime("%Y-%m-%dT%H:%M:%S")


def year_quota(limit):
    return quota("YEAR", limit, start=CLUSTER_ANCHOR)


def wait_for(predicate, what, timeout=30.0, interval=0.05):
    """Polls predicate() until it returns a true value (returned); fails after timeout.

    The timeout is a safety limit only: tests wait for states, never for time."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
        except (OSError, http.client.HTTPException) as e:
            last = e
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() >= deadline:
            pytest.fail(f"gave up waiting {timeout:.0f} s for {what}; last: {last!r}")
        time.sleep(interval)


def cluster_view(node):
    """GET /v1/cluster of one node, as a dict."""
    r = call(node, "GET", "/v1/cluster", timeout=10.0)
    assert r.status == 200, f"GET /v1/cluster on {node.node_id}: {r!r}"
    return r.json


def member_states(view):
    """{node_id: state} of a /v1/cluster answer."""
    return {m["node_id"]: m["state"] for m in view["members"]}


def settled_views(nodes, member_ids):
    """The nodes' views if all of them list exactly member_ids, all up, at one epoch; else None."""
    views = [cluster_view(n) for n in nodes]
    want = {i: "up" for i in member_ids}
    if all(member_states(v) == want for v in views) and len({v["epoch"] for v in views}) == 1:
        return views
    return None


def wait_settled(nodes, member_ids=None, timeout=30.0):
    """Waits until every node in `nodes` lists exactly `member_ids` (default: the
    nodes' own ids), every one up, at the same epoch. Returns their views."""
    ids = sorted(member_ids if member_ids is not None else [n.node_id for n in nodes])
    return wait_for(lambda: settled_views(nodes, ids),
                    f"{[n.node_id for n in nodes]} to agree on {ids}, all up", timeout)


def wait_state(nodes, node_id, state, timeout=30.0):
    """Waits until every node in `nodes` shows member `node_id` in `state`."""
    return wait_for(lambda: all(member_states(cluster_view(n)).get(node_id) == state
                                for n in nodes),
                    f"{[n.node_id for n in nodes]} to show {node_id} {state}", timeout)


def owner_header(reply):
    owner = reply.header("X-Quotad-Owner")
    assert owner, f"no X-Quotad-Owner in {reply!r}"
    return owner


def owner_of(node, client):
    """The node that owns `client`, as `node` sees it (the client need not exist)."""
    r = call(node, "GET", client_path(client) + "/quotas")
    assert r.status in (200, 404), r
    return owner_header(r)


def clients_owned(node, prefix, per_owner, owners, limit=10000):
    """{owner: [client ids]}: the first `per_owner` ids prefix0, prefix1, ... owned
    by each of `owners`, as `node` sees the ring."""
    found = {o: [] for o in owners}
    for k in range(limit):
        if all(len(v) >= per_owner for v in found.values()):
            return found
        cid = f"{prefix}{k}"
        o = owner_of(node, cid)
        if o in found and len(found[o]) < per_owner:
            found[o].append(cid)
    pytest.fail(f"found no {per_owner} clients each for {owners} among {limit} ids: {found}")


class Cluster:
    """Nodes of one loopback cluster, by node id; node ids sort as started (n1 < n2 ...)."""

    def __init__(self, make, **node_kwargs):
        self._make = make
        self.node_kwargs = node_kwargs
        self.nodes = {}

    def start_node(self, node_id, seeds=None):
        """Starts node_id; it joins through `seeds` (nodes) or, by default, the first node."""
        if seeds is None:
            seeds = list(self.nodes.values())[:1]
        args = [f"--node-id={node_id}"]
        if seeds:
            args.append("--seeds=" + ",".join(f"127.0.0.1:{s.cluster_port}" for s in seeds))
        p = QuotadProcess(testing_clock=False, extra_args=args, **self.node_kwargs)
        p.node_id = node_id
        self._make(p)
        self.nodes[node_id] = p
        return p

    def __getitem__(self, node_id):
        return self.nodes[node_id]

    def live(self):
        return [n for n in self.nodes.values() if n.proc is not None]

    def wait_settled(self, member_ids=None, timeout=30.0):
        return wait_settled(self.live(), member_ids, timeout)


@pytest.fixture
def make_cluster():
    """Factory: make_cluster(size=3, **QuotadProcess kwargs) -> a settled Cluster of
    nodes n1..n<size> (n1 starts it; the others join through n1). Every node started
    through the cluster, also later, is stopped at teardown."""
    _require_binary()
    procs = []

    def register(p):
        procs.append(p)
        p.start()

    def make(size=3, **kwargs):
        c = Cluster(register, **kwargs)
        for k in range(1, size + 1):
            c.start_node(f"n{k}")
        c.wait_settled()
        return c

    yield make
    for p in procs:
        p.cleanup()
