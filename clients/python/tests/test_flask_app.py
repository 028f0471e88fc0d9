"""A real Flask app whose routes use the client exactly as the Flask
library's README shows; only the import and the constructor changed.

client1 has DAY 500 and MONTH 10000 from 2022-01-01 (UTC). The clock stands
at 2027-01-31T10:00:00Z: the DAY window ends 2027-02-01T00:00:00Z =
1801440000, 50400 s later; the January MONTH window lasts 31 days = 2678400 s.
"""
from datetime import datetime

import pytest

flask = pytest.importorskip("flask", reason="Flask (Debian: python3-flask) is not installed")
from flask import Flask, jsonify, request  # noqa: E402

from conftest import ADMIN_TOKEN, GATEWAY_TOKEN, set_clock  # noqa: E402
from quotad_client import ApiBilling, QuotaDefinition, QuotaDuration, QuotaException  # noqa: E402

DAY_END = "1801440000"


def build_app(quotad_url, setup_quotas=True, **options):
    options.setdefault("admin_token", ADMIN_TOKEN)
    options.setdefault("gateway_token", GATEWAY_TOKEN)
    # --- as in the Flask library's README, with quotad_client ---------------
    api_billing = ApiBilling(base_url=quotad_url, time_zone="UTC", **options)
    client_id = "client1"
    quotas = [
        QuotaDefinition(duration_type=QuotaDuration.DAY, credit_limit=500, start_date=datetime(2022, 1, 1)),
        QuotaDefinition(duration_type=QuotaDuration.MONTH, credit_limit=10000, start_date=datetime(2022, 1, 1)),
    ]
    if setup_quotas:
        api_billing.delete_client(client_id)
        api_billing.update_client_quotas(client_id=client_id, quota_definitions=quotas)
    app = Flask(__name__)

    @app.route("/api/fetch-data", methods=["GET"])
    def fetch_data_api_handler():
        # run authentication of the user
        authenticated_client = request.headers.get("X-Client", "client1")  # your auth mechanism
        api_billing.track_client_usage(client_id=authenticated_client)  # aborts if insufficient credits
        result = {"data": [1, 2, 3]}
        return jsonify(result)

    @app.route("/api/fetch-expensive-data", methods=["GET"])
    def fetch_expensive_data_api_handler():
        authenticated_client = request.headers.get("X-Client", "client1")
        credits_used = 5.0  # this can also be determined dynamically by the request
        api_billing.track_client_usage(client_id=authenticated_client, credits_used=credits_used)
        result = {"data": "expensive"}
        # return a response with X-RateLimit-[Remaining|Reset] headers
        return api_billing.create_response_with_header(client_id=authenticated_client,
                                                       response_body=jsonify(result))

    @app.route("/api/handled", methods=["GET"])
    def handled_api_handler():
        authenticated_client = request.headers.get("X-Client", "client1")
        try:
            api_billing.track_client_usage(client_id=authenticated_client, credits_used=5, use_abort=False)
        except QuotaException as e:
            return api_billing.create_response_with_header(
                client_id=authenticated_client, response_body=jsonify({"error": str(e)}),
                status_code=429, exception=e)
        return api_billing.create_response_with_header(authenticated_client, jsonify({"ok": True}))

    app.api_billing = api_billing
    return app


@pytest.fixture
def app(quotad):
    set_clock(quotad, "2027-01-31T10:00:00Z")
    app = build_app(quotad.url)
    try:
        yield app
    finally:
        app.api_billing.close()


def test_200_then_429_with_headers(quotad, app):
    web = app.test_client()
    resp = web.get("/api/fetch-data")
    assert resp.status_code == 200
    assert resp.get_json() == {"data": [1, 2, 3]}
    assert "X-RateLimit-Remaining" not in resp.headers  # this route adds no headers, as in the README

    resp = web.get("/api/fetch-expensive-data")
    assert resp.status_code == 200
    assert resp.get_json() == {"data": "expensive"}
    assert resp.headers["X-RateLimit-Remaining"] == "494"   # 500 - 1 - 5
    assert resp.headers["X-RateLimit-Reset"] == DAY_END
    assert '"day";q=500;w=86400' in resp.headers["RateLimit-Policy"]
    assert "Retry-After" not in resp.headers

    for _ in range(97):                                      # 494 - 97 * 5 = 9 left
        assert web.get("/api/fetch-expensive-data").status_code == 200
    assert web.get("/api/fetch-expensive-data").headers["X-RateLimit-Remaining"] == "4"

    resp = web.get("/api/fetch-expensive-data")              # 5 needed, 4 left
    assert resp.status_code == 429
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.headers["X-RateLimit-Remaining"] == "4"
    assert resp.headers["X-RateLimit-Reset"] == DAY_END
    assert resp.headers["Retry-After"] == "50400"
    assert '"day";q=500;w=86400' in resp.headers["RateLimit-Policy"]
    assert '"day";r=4;t=50400' in resp.headers["RateLimit"]
    problem = resp.get_json(force=True)
    assert problem["status"] == 429
    assert problem["detail"] == ("You have only 4 credits remaining, but 5 are required. "
                                 "They will renew at 2027-02-01 00:00:00")

    for _ in range(4):                                       # the cheap route still fits
        assert web.get("/api/fetch-data").status_code == 200
    resp = web.get("/api/fetch-data")
    assert resp.status_code == 429
    assert resp.headers["X-RateLimit-Remaining"] == "0"

    # the next day the DAY window renews
    set_clock(quotad, "2027-02-01T00:00:00Z")
    resp = web.get("/api/fetch-expensive-data")
    assert resp.status_code == 200
    assert resp.headers["X-RateLimit-Remaining"] == "495"
    assert resp.headers["X-RateLimit-Reset"] == "1801526400"  # 2027-02-02


def test_unknown_client_gets_403(app):
    web = app.test_client()
    resp = web.get("/api/fetch-data", headers={"X-Client": "nobody-has-quotas"})
    assert resp.status_code == 403
    assert "You do not have any available quota" in resp.get_data(as_text=True)
    assert "X-RateLimit-Remaining" not in resp.headers


def test_quota_exception_into_create_response_with_header(app):
    web = app.test_client()
    for _ in range(100):                                     # 100 * 5 = the whole day
        assert web.get("/api/handled").status_code == 200
    resp = web.get("/api/handled")
    assert resp.status_code == 429
    assert resp.get_json() == {"error": "Quota remaining: 0 | Quota renews: 2027-02-01 00:00:00"}
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert resp.headers["X-RateLimit-Reset"] == DAY_END
    assert resp.headers["Retry-After"] == "50400"

    resp = web.get("/api/handled", headers={"X-Client": "nobody-has-quotas"})
    assert resp.status_code == 429
    assert resp.get_json() == {"error": "You do not have any available quota"}


def test_create_response_with_header_outside_a_debit(app):
    # in a request that made no debit, the headers come from quotad's status
    with app.test_request_context("/"):
        resp = app.api_billing.create_response_with_header("client1", {"x": 1}, status_code=201)
        assert resp.status_code == 201
        assert resp.headers["X-RateLimit-Remaining"] == "500"
        assert resp.headers["X-RateLimit-Reset"] == DAY_END
        resp = app.api_billing.create_response_with_header("nobody-has-quotas", "text")
        assert "X-RateLimit-Remaining" not in resp.headers
        # a QuotaException built by hand, as with the Flask library
        exc = QuotaException(7, datetime(2027, 2, 1))
        resp = app.api_billing.create_response_with_header("client1", "x", 429, exception=exc)
        assert resp.headers["X-RateLimit-Remaining"] == "7"
        assert resp.headers["X-RateLimit-Reset"] == DAY_END


def test_unreachable_service_fails_closed_with_503(dead_url):
    app = build_app(dead_url, setup_quotas=False)
    try:
        resp = app.test_client().get("/api/fetch-data")
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == "1"
        assert "quota service cannot be reached" in resp.get_json(force=True)["detail"]
    finally:
        app.api_billing.close()


def test_unreachable_service_fails_open_when_asked(dead_url):
    app = build_app(dead_url, setup_quotas=False, fail_open=True)
    try:
        web = app.test_client()
        assert web.get("/api/fetch-data").status_code == 200
        resp = web.get("/api/fetch-expensive-data")
        assert resp.status_code == 200
        assert "X-RateLimit-Remaining" not in resp.headers
    finally:
        app.api_billing.close()
