"""Bad input gets a 4xx problem+json naming the field, and changes nothing (SPEC §6).

Most tests share one node (module scope); each uses its own client, prepared
with DAY 100 and one debit, and checks afterwards that its status document
and ledger total are exactly what they were before the bad request.
"""
import http.client
import json
import select
import socket

import pytest

from conftest import (ADMIN_TOKEN, GATEWAY_TOKEN, NOW, Reply, assert_problem, batch, call,
                      client_path, debit, find_quota, get_status, ledger_total, put_quotas,
                      quota, set_clock, snapshot, with_query)

DEF = {"duration": "DAY", "credit_limit": 5, "start_date": "2022-01-01T00:00:00", "time_zone": "UTC"}
MiB = 1024 * 1024


class Prepared:
    """A client with DAY 100 and one credit used; `rejected` checks a bad request."""

    def __init__(self, node, client):
        self.node, self.client = node, client
        set_clock(node, NOW)
        put_quotas(node, client, [quota("DAY", 100)])
        debit(node, client, 1, expect=200)
        self.before = snapshot(node, client)
        assert find_quota(self.before[0], "DAY")["used"] == 1 and self.before[1] == 1

    @property
    def path(self):
        return client_path(self.client)

    def unchanged(self):
        assert snapshot(self.node, self.client) == self.before

    def rejected(self, reply, status, *fields):
        body = assert_problem(reply, status, *fields)
        self.unchanged()
        return body


@pytest.fixture
def prep(shared_node, client_id):
    return Prepared(shared_node, client_id)


DROP = object()  # marks a member to leave out


def definition(**changes):
    d = dict(DEF)
    for k, v in changes.items():
        if v is DROP:
            d.pop(k)
        else:
            d[k] = v
    return d


def raw_definition(field, literal):
    """A quotas body with one member written as a raw JSON literal (NaN, 1e999 ...)."""
    members = [f'"{k}": {json.dumps(v)}' for k, v in DEF.items() if k != field]
    members.append(f'"{field}": {literal}')
    return '{"quotas": [{' + ", ".join(members) + "}]}"


# ---------------------------------------------------------------- PUT quotas

BAD_QUOTA_BODIES = [
    ("malformed", '{"quotas": [', ()),
    ("misspelt-time-zone", {"quotas": [{"duration": "DAY", "credit_limit": 5, "timezone": "Europe/Berlin"}]},
     ("quotas[0].timezone",)),
    ("trailing-garbage", '{"quotas": []} x', ()),
    ("not-an-object", "[]", ()),
    ("empty-body", "", ()),
    ("nan-literal", raw_definition("credit_limit", "NaN"), ()),
    ("missing-quotas", {}, ("quotas",)),
    ("quotas-not-a-list", {"quotas": "DAY"}, ("quotas",)),
    ("quotas-null", {"quotas": None}, ("quotas",)),
    ("definition-not-an-object", {"quotas": [5]}, ("quotas", "quota")),
    ("duration-unknown", {"quotas": [definition(duration="FORTNIGHT")]}, ("duration",)),
    ("duration-empty", {"quotas": [definition(duration="")]}, ("duration",)),
    ("duration-number", {"quotas": [definition(duration=5)]}, ("duration",)),
    ("duration-missing", {"quotas": [definition(duration=DROP)]}, ("duration",)),
    # (a decimal in a string, "500", may be accepted: exact decimals can travel as strings)
    ("limit-word", {"quotas": [definition(credit_limit="five hundred")]}, ("credit_limit",)),
    ("limit-bool", {"quotas": [definition(credit_limit=True)]}, ("credit_limit",)),
    ("limit-minus-2", {"quotas": [definition(credit_limit=-2)]}, ("credit_limit",)),
    ("limit-negative-fraction", {"quotas": [definition(credit_limit=-0.5)]}, ("credit_limit",)),
    ("limit-7-decimals", {"quotas": [definition(credit_limit=1.0000001)]}, ("credit_limit",)),
    ("limit-too-large", {"quotas": [definition(credit_limit=1e300)]}, ("credit_limit",)),
    ("limit-infinite", raw_definition("credit_limit", "1e999"), ("credit_limit",)),
    ("start-month-13", {"quotas": [definition(start_date="2022-13-01T00:00:00")]}, ("start_date",)),
    ("start-feb-30", {"quotas": [definition(start_date="2022-02-30T00:00:00")]}, ("start_date",)),
    ("start-hour-25", {"quotas": [definition(start_date="2022-01-01T25:00:00")]}, ("start_date",)),
    ("start-words", {"quotas": [definition(start_date="yesterday")]}, ("start_date",)),
    ("start-empty", {"quotas": [definition(start_date="")]}, ("start_date",)),
    ("start-bool", {"quotas": [definition(start_date=True)]}, ("start_date",)),
    ("zone-unknown", {"quotas": [definition(time_zone="Mars/Base")]}, ("time_zone",)),
    ("zone-misspelt", {"quotas": [definition(time_zone="Europe/Berlinn")]}, ("time_zone",)),
    ("zone-empty", {"quotas": [definition(time_zone="")]}, ("time_zone",)),
    ("zone-number", {"quotas": [definition(time_zone=5)]}, ("time_zone",)),
    # one bad definition spoils the list: the good one is not applied either
    ("second-definition-bad", {"quotas": [definition(), definition(duration="HOUR", credit_limit=-2)]},
     ("credit_limit",)),
]


@pytest.mark.parametrize("body,fields", [b[1:] for b in BAD_QUOTA_BODIES],
                         ids=[b[0] for b in BAD_QUOTA_BODIES])
def test_bad_quota_definitions(prep, body, fields):
    r = call(prep.node, "PUT", prep.path + "/quotas", body)
    prep.rejected(r, 400, *fields)


# ---------------------------------------------------------------- client ids

BAD_IDS = [
    ("257-bytes", "x" * 257),
    ("257-bytes-multibyte", "é" * 128 + "x"),
    ("invalid-utf8", None),
]


@pytest.mark.parametrize("label,client", BAD_IDS, ids=[b[0] for b in BAD_IDS])
def test_bad_client_ids(shared_node, label, client):
    set_clock(shared_node, NOW)
    path = "/v1/clients/%FF%FE" if client is None else client_path(client)
    names = ("client_id", "client id", "client")
    assert_problem(call(shared_node, "PUT", path + "/quotas", {"quotas": [DEF]}), 400, *names)
    assert_problem(call(shared_node, "GET", path + "/quotas"), 400, *names)
    assert_problem(call(shared_node, "POST", path + "/usage", {"credits": 1}), 400, *names)
    assert_problem(call(shared_node, "GET", path + "/usage"), 400, *names)
    assert_problem(call(shared_node, "DELETE", path), 400, *names)


def test_empty_client_id(shared_node):
    # an empty path segment is a bad id (400) or matches no route (404); never a client
    for method, path, body in [("PUT", "/v1/clients//quotas", {"quotas": [DEF]}),
                               ("POST", "/v1/clients//usage", {"credits": 1}),
                               ("GET", "/v1/clients//quotas", None)]:
        r = call(shared_node, method, path, body)
        assert r.status in (400, 404), r
        assert_problem(r, r.status)


def test_longest_id_is_accepted(shared_node):
    set_clock(shared_node, NOW)
    for client in ("y" * 256, "é" * 128):
        assert put_quotas(shared_node, client, [DEF])["client_id"] == client


# ---------------------------------------------------------------- debits

BAD_DEBIT_BODIES = [
    ("malformed", '{"credits": ', ()),
    ("not-an-object", "[1]", ()),
    ("a-string", '"one"', ()),
    ("nan-literal", '{"credits": NaN}', ()),
    ("infinity-literal", '{"credits": Infinity}', ()),
    ("credits-negative", {"credits": -1}, ("credits",)),
    ("credits-negative-fraction", {"credits": -0.000001}, ("credits",)),
    ("credits-word", {"credits": "five"}, ("credits",)),
    ("credits-string-7-decimals", {"credits": "1.0000001"}, ("credits",)),
    ("credits-string-negative", {"credits": "-1"}, ("credits",)),
    ("credits-bool", {"credits": True}, ("credits",)),
    ("credits-list", {"credits": [1]}, ("credits",)),
    ("credits-7-decimals", {"credits": 1.0000001}, ("credits",)),
    ("credits-tiny", {"credits": 0.0000001}, ("credits",)),
    ("credits-too-large", {"credits": 1e300}, ("credits",)),
    ("credits-overflowing", '{"credits": 1e999}', ("credits",)),
    ("key-number", {"credits": 1, "idempotency_key": 5}, ("idempotency_key",)),
    ("key-object", {"credits": 1, "idempotency_key": {}}, ("idempotency_key",)),
    ("dry-run-string", {"credits": 1, "dry_run": "yes"}, ("dry_run",)),
    ("dry-run-number", {"credits": 1, "dry_run": 1}, ("dry_run",)),
    ("misspelt-credits", {"credit": 5}, ("credit",)),
    ("misspelt-dry-run", {"credits": 1, "dryrun": True}, ("dryrun",)),
]


@pytest.mark.parametrize("body,fields", [b[1:] for b in BAD_DEBIT_BODIES],
                         ids=[b[0] for b in BAD_DEBIT_BODIES])
def test_bad_debits(prep, body, fields):
    r = call(prep.node, "POST", prep.path + "/usage", body)
    prep.rejected(r, 400, *fields)
    # also as a dry run, where the body parses
    if isinstance(body, dict) and "dry_run" not in body:
        r = call(prep.node, "POST", prep.path + "/usage", dict(body, dry_run=True))
        prep.rejected(r, 400, *fields)


@pytest.mark.parametrize("credits", ["-1", "abc", "0.0000001", "1e999", "NaN"])
def test_bad_authorize_credits(prep, credits):
    r = call(prep.node, "GET", "/v1/authorize",
             headers={"X-Client-Id": prep.client, "X-Quota-Credits": credits})
    assert r.status == 400, r
    prep.unchanged()


# ---------------------------------------------------------------- ledger queries

BAD_QUERIES = [
    ({"from": "garbage"}, ("from",)),
    ({"to": "2026-13-01T00:00:00Z"}, ("to",)),
    ({"from": "2026-12-01T00:00:00Z", "to": "soon"}, ("to",)),
    ({"granularity": "week"}, ("granularity",)),
    ({"granularity": "day", "time_zone": "Mars/Base"}, ("time_zone",)),
]


@pytest.mark.parametrize("query,fields", BAD_QUERIES, ids=lambda v: str(v))
def test_bad_usage_queries(prep, query, fields):
    prep.rejected(call(prep.node, "GET", with_query(prep.path + "/usage", **query)), 400, *fields)


@pytest.mark.parametrize("query,fields", BAD_QUERIES[:3], ids=lambda v: str(v))
def test_bad_usage_deletes_delete_nothing(prep, query, fields):
    r = call(prep.node, "DELETE", with_query(prep.path + "/usage", **query))
    prep.rejected(r, 400, *fields)


# ---------------------------------------------------------------- batches

@pytest.mark.parametrize("body,fields", [
    ({}, ("requests",)),
    ({"requests": "all"}, ("requests",)),
    ({"requests": {"client_id": "a"}}, ("requests",)),
    ('{"requests": [', ()),
], ids=["missing", "string", "object", "malformed"])
def test_bad_batches(prep, body, fields):
    prep.rejected(call(prep.node, "POST", "/v1/usage:batch", body), 400, *fields)


def test_batch_over_1000_items_is_refused_whole(prep):
    items = [{"client_id": prep.client, "credits": 0.01}] * 1001
    r = call(prep.node, "POST", "/v1/usage:batch", {"requests": items})
    assert r.status in (400, 413), r
    prep.rejected(r, r.status, *(("requests", "1000") if r.status == 400 else ()))


def test_batch_of_1000_items_is_accepted(shared_node, client_id):
    set_clock(shared_node, NOW)
    put_quotas(shared_node, client_id, [])
    r = batch(shared_node, [{"client_id": client_id, "credits": 0.5}] * 1000)
    assert [x["status"] for x in r["results"]] == [200] * 1000
    assert ledger_total(shared_node, client_id) == 500


def test_bad_batch_item_is_judged_alone(prep):
    r = batch(prep.node, [{"client_id": 5, "credits": 1},
                          {"client_id": prep.client, "credits": "x"},
                          {"credits": 1},
                          {"client_id": prep.client, "credits": 2}])
    assert [x["status"] for x in r["results"]] == [400, 400, 400, 200]
    assert find_quota(get_status(prep.node, prep.client), "DAY")["used"] == 3


# ---------------------------------------------------------------- the testing clock

@pytest.mark.parametrize("method,path,body,fields", [
    ("PUT", "/v1/testing/clock", {"now": "garbage"}, ("now",)),
    ("PUT", "/v1/testing/clock", {"now": "2027-02-30T00:00:00Z"}, ("now",)),
    ("PUT", "/v1/testing/clock", {}, ("now",)),
    ("POST", "/v1/testing/clock:advance", {"seconds": "x"}, ("seconds",)),
    ("POST", "/v1/testing/clock:advance", {}, ("seconds",)),
])
def test_bad_clock_requests(prep, method, path, body, fields):
    prep.rejected(call(prep.node, method, path, body), 400, *fields)


def test_testing_clock_routes_are_404_when_off(make_node):
    node = make_node(testing_clock=False)
    assert_problem(call(node, "PUT", "/v1/testing/clock", {"now": NOW}), 404)
    assert_problem(call(node, "POST", "/v1/testing/clock:advance", {"seconds": 60}), 404)


# ---------------------------------------------------------------- body size

def send_body(node, method, path, body, timeout=60.0):
    """Sends a large body on a raw socket, a piece at a time, and stops sending as soon
    as an answer arrives (a 413 may come before the whole body is sent)."""
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{node.http_port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", node.http_port), timeout=timeout)
    try:
        sock.sendall(head)
        sent, piece = 0, 64 * 1024
        while sent < len(body):
            readable, writable, _ = select.select([sock], [sock], [], timeout)
            if readable:
                break  # the server answered early
            if not writable:
                raise AssertionError("the server neither reads the body nor answers")
            try:
                sent += sock.send(body[sent:sent + piece])
            except (BrokenPipeError, ConnectionResetError):
                break
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        payload = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
    finally:
        sock.close()


def padded(obj, size):
    """obj as JSON, padded with spaces to exactly `size` bytes (still valid JSON)."""
    text = json.dumps(obj).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


def test_body_over_1_mib_is_413(prep):
    body = padded({"quotas": [DEF]}, MiB + 1)
    prep.rejected(send_body(prep.node, "PUT", prep.path + "/quotas", body), 413)
    body = padded({"credits": 1}, MiB + 100_000)
    prep.rejected(send_body(prep.node, "POST", prep.path + "/usage", body), 413)


def test_body_under_1_mib_is_accepted(prep):
    r = send_body(prep.node, "POST", prep.path + "/usage", padded({"credits": 2}, 1_000_000))
    assert r.status == 200, r
    assert ledger_total(prep.node, prep.client) == 3


# ---------------------------------------------------------------- routes and methods

@pytest.mark.parametrize("method,path", [
    ("GET", "/v1/nothing"),
    ("GET", "/nothing"),
    ("GET", "/v2/clients/a/quotas"),
    ("GET", "/v1/clients/a/nothing"),
    ("POST", "/v1/clients/a/usage:nothing"),
    ("GET", "/v1/clients/a/quotas/extra"),
])
def test_unknown_routes_are_404(shared_node, method, path):
    assert_problem(call(shared_node, method, path), 404)


@pytest.mark.parametrize("method,path,allowed", [
    ("PATCH", "/v1/clients/a/quotas", {"GET", "PUT"}),
    ("POST", "/v1/clients/a/quotas", {"GET", "PUT"}),
    ("PUT", "/v1/clients/a/usage", {"GET", "POST", "DELETE"}),
    ("POST", "/v1/clients/a", {"DELETE"}),
    ("GET", "/v1/usage:batch", {"POST"}),
    ("GET", "/v1/clients/a/usage:import", {"POST"}),
    ("POST", "/healthz", {"GET"}),
    ("DELETE", "/metrics", {"GET"}),
    ("PUT", "/v1/cluster", {"GET"}),
])
def test_wrong_method_is_405_with_allow(prep, method, path, allowed):
    path = path.replace("/v1/clients/a", prep.path)
    r = call(prep.node, method, path, {} if method in ("PUT", "POST", "PATCH") else None)
    prep.rejected(r, 405)
    allow = {m.strip().upper() for m in r.header("Allow", "").split(",") if m.strip()}
    assert allowed <= allow, r
    assert method not in allow, r


# ---------------------------------------------------------------- tokens

def assert_401(reply):
    assert_problem(reply, 401)
    assert reply.header("WWW-Authenticate", "").startswith("Bearer"), reply


@pytest.fixture
def guarded(admin_node):
    return Prepared(admin_node, "guarded")


WRONG = {"Authorization": "Bearer wrong-token"}


@pytest.mark.parametrize("method,suffix,body", [
    ("PUT", "/quotas", {"quotas": [DEF]}),
    ("DELETE", "", None),
    ("DELETE", "/usage", None),
    ("POST", "/usage:import", {"import_id": "i1", "records": [{"timestamp": 1764756000, "credits": 5}]}),
], ids=["put-quotas", "delete-client", "delete-usage", "import"])
def test_admin_calls_need_the_admin_token(guarded, method, suffix, body):
    path = guarded.path + suffix
    assert_401(call(guarded.node, method, path, body))
    guarded.unchanged()
    guarded.rejected(call(guarded.node, method, path, body, headers=WRONG), 403)
    # the gateway token is not the admin token
    guarded.rejected(call(guarded.node, method, path, body, token=GATEWAY_TOKEN), 403)
    # a bearer token in the wrong scheme is no token
    r = call(guarded.node, method, path, body, headers={"Authorization": f"Basic {ADMIN_TOKEN}"})
    assert r.status in (401, 403), r
    guarded.unchanged()


@pytest.mark.parametrize("route", ["usage", "batch"])
def test_debits_need_the_gateway_token(guarded, route):
    if route == "usage":
        method, path, body = "POST", guarded.path + "/usage", {"credits": 1}
    else:
        method, path, body = "POST", "/v1/usage:batch", {
            "requests": [{"client_id": guarded.client, "credits": 1}]}
    assert_401(call(guarded.node, method, path, body))
    guarded.unchanged()
    guarded.rejected(call(guarded.node, method, path, body, headers=WRONG), 403)
    r = call(guarded.node, method, path, body, token=GATEWAY_TOKEN)
    assert r.status == 200, r
    assert ledger_total(guarded.node, guarded.client) == 2


def test_admin_token_works(guarded):
    r = call(guarded.node, "PUT", guarded.path + "/quotas", {"quotas": [DEF]}, token=ADMIN_TOKEN)
    assert r.status == 200, r
    assert find_quota(r, "DAY")["credit_limit"] == 5
    assert call(guarded.node, "DELETE", guarded.path, token=ADMIN_TOKEN).status == 204
    assert_problem(call(guarded.node, "GET", guarded.path + "/quotas"), 404)
