"""Failure modes of the connection pool that a healthy quotad does not
produce on demand, played by a scripted stub server on loopback."""
import json

import pytest

from conftest import answer, hang_up
from quotad_client import ApiBilling, QuotadError, QuotadUnavailable, QuotaException

STATUS_DOC = json.dumps({"client_id": "a", "quotas": [], "lowest": {"remaining": 4, "reset": 1801440000}})


def api_for(url, **kw):
    kw.setdefault("time_zone", "UTC")
    return ApiBilling(base_url=url, timeout=5, **kw)


def test_503_is_unavailable_with_retry_after(stub_server):
    body = json.dumps({"type": "about:blank", "title": "Service Unavailable", "status": 503,
                       "detail": "the client's owner is down"})
    stub = stub_server([answer(503, body, {"Retry-After": "7"}, "application/problem+json")])
    api = api_for(stub.url)
    try:
        with pytest.raises(QuotadUnavailable) as info:
            api.track_client_usage("a", use_abort=False)
        exc = info.value
        assert exc.status == 503 and exc.retry_after == 7
        assert exc.outcome_unknown is False               # a 503 was not applied
        assert "the client's owner is down" in str(exc)
    finally:
        api.close()


def test_503_fails_open_when_asked(stub_server):
    stub = stub_server([answer(503, "{}", {"Retry-After": "1"})])
    api = api_for(stub.url, fail_open=True)
    try:
        assert api.track_client_usage("a").fail_open is True
    finally:
        api.close()


def test_a_read_is_resent_when_a_kept_alive_connection_drops(stub_server):
    stub = stub_server([answer(200, STATUS_DOC), hang_up, answer(200, STATUS_DOC)])
    api = api_for(stub.url)
    try:
        assert api.get_lowest_quota("a")[0] == 4
        # the pooled connection is closed by the server while the request is on its way
        assert api.get_lowest_quota("a")[0] == 4
        assert stub.connections == 2
        assert len(stub.requests) == 3
    finally:
        api.close()


def test_a_debit_without_key_is_not_sent_twice(stub_server):
    ok = json.dumps({"allowed": True, "credits": 1, "remaining": 3, "reset": 1801440000})
    stub = stub_server([answer(200, ok), hang_up, answer(200, ok)])
    api = api_for(stub.url)
    try:
        api.track_client_usage("a")
        with pytest.raises(QuotadUnavailable) as info:
            api.track_client_usage("a", use_abort=False)
        assert info.value.outcome_unknown is True
        assert len(stub.requests) == 2          # not resent
    finally:
        api.close()


def test_a_debit_with_key_is_resent(stub_server):
    ok = json.dumps({"allowed": True, "credits": 1, "remaining": 3, "reset": 1801440000})
    stub = stub_server([answer(200, ok), hang_up, answer(200, ok)])
    api = api_for(stub.url)
    try:
        api.track_client_usage("a", idempotency_key="k1")
        assert api.track_client_usage("a", idempotency_key="k2").remaining == 3
        assert len(stub.requests) == 3
        keys = [json.loads(r[3])["idempotency_key"] for r in stub.requests]
        assert keys == ["k1", "k2", "k2"]
    finally:
        api.close()


def test_requests_carry_tokens_and_exact_bodies(stub_server):
    ok = json.dumps({"allowed": True, "credits": 0.3, "remaining": 3, "reset": 1801440000})
    stub = stub_server([answer(200, ok), answer(200, STATUS_DOC)])
    api = api_for(stub.url + "/prefix/", admin_token="adm", gateway_token="gw")
    try:
        api.track_client_usage("a b", 0.1 + 0.2)
        from quotad_client import QuotaDefinition
        import datetime as dt
        api.update_client_quotas("a b", [QuotaDefinition("month", "12.5", dt.datetime(2022, 1, 31, 12))])
        (m1, p1, h1, b1), (m2, p2, h2, b2) = stub.requests
        assert (m1, p1) == ("POST", "/prefix/v1/clients/a%20b/usage")
        assert h1["Authorization"] == "Bearer gw"
        assert b1 == b'{"credits":0.3}'
        assert (m2, p2) == ("PUT", "/prefix/v1/clients/a%20b/quotas")
        assert h2["Authorization"] == "Bearer adm"
        assert json.loads(b2) == {"quotas": [{"duration": "MONTH", "credit_limit": 12.5,
                                              "start_date": "2022-01-31T12:00:00+00:00",
                                              "time_zone": "UTC"}]}
    finally:
        api.close()


def test_other_errors_are_quotad_errors(stub_server):
    stub = stub_server([answer(500, '{"title":"Internal Server Error","status":500}')])
    api = api_for(stub.url)
    try:
        with pytest.raises(QuotadError) as info:
            api.get_total_usage("a")
        assert info.value.status == 500
        assert not isinstance(info.value, QuotaException)
    finally:
        api.close()
