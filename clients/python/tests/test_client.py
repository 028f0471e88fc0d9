"""Every ApiBilling method against a real quotad (testing clock).

Epoch values used below, computed by hand from 1970-01-01 (14 leap days up
to 2027; January 2027 has 31 days, February 28):
  2027-01-01T00:00:00Z = 20819 days = 1798761600
  2027-01-31T00:00:00Z = 20849 days = 1801353600
  2027-01-31T10:00:00Z = 1801353600 + 36000 = 1801389600
  2027-02-01T00:00:00Z = 20850 days = 1801440000
  2027-03-01T00:00:00Z = 20878 days = 1803859200
  Berlin (UTC+1 in winter): local midnight 2027-02-01 = 1801440000 - 3600 = 1801436400
"""
import datetime as dt
import logging
import threading
from decimal import Decimal

import pytest

from conftest import ADMIN_TOKEN, GATEWAY_TOKEN, set_clock
from quotad_client import (ApiBilling, QUOTA_UNLIMITED, QuotaDefinition, QuotaDuration,
                           QuotadBadRequest, QuotadError, QuotadUnavailable, QuotaException, Usage)

NOW = "2027-01-31T10:00:00Z"
JAN1_2022 = dt.datetime(2022, 1, 1)


@pytest.fixture(autouse=True)
def _clock(quotad):
    set_clock(quotad, NOW)


def day_and_month(day=10, month=100):
    return [QuotaDefinition(QuotaDuration.DAY, day, JAN1_2022),
            QuotaDefinition(QuotaDuration.MONTH, month, JAN1_2022)]


# --- quotas ------------------------------------------------------------------------

def test_update_client_quotas_sets_definitions(billing, client_id):
    billing.update_client_quotas(client_id, day_and_month())
    doc = billing.get_client_quotas(client_id)
    assert doc["client_id"] == client_id
    by_duration = {q["duration"]: q for q in doc["quotas"]}
    assert set(by_duration) == {"DAY", "MONTH"}
    assert by_duration["DAY"]["credit_limit"] == 10
    assert by_duration["DAY"]["used"] == 0
    assert by_duration["DAY"]["remaining"] == 10
    assert by_duration["DAY"]["reset"] == 1801440000
    assert by_duration["MONTH"]["reset"] == 1801440000
    assert doc["lowest"]["remaining"] == 10
    assert doc["lowest"]["reset"] == 1801440000


def test_duplicate_duration_is_refused_before_any_request(billing, client_id):
    quotas = [QuotaDefinition(QuotaDuration.DAY, 5, JAN1_2022),
              QuotaDefinition("day", 7, JAN1_2022)]
    with pytest.raises(ValueError, match="Duplicate duration type DAY"):
        billing.update_client_quotas(client_id, quotas)
    assert billing.get_client_quotas(client_id) is None  # nothing was sent


def test_bad_definitions_are_refused(billing, client_id):
    with pytest.raises(ValueError):
        QuotaDefinition("FORTNIGHT", 5, JAN1_2022)
    with pytest.raises(ValueError):
        QuotaDefinition(QuotaDuration.DAY, -5, JAN1_2022)
    with pytest.raises(ValueError):
        QuotaDefinition(QuotaDuration.DAY, float("nan"), JAN1_2022)
    with pytest.raises(ValueError):
        QuotaDefinition(QuotaDuration.DAY, 5, JAN1_2022, time_zone="Mars/Olympus")
    with pytest.raises(TypeError):
        billing.update_client_quotas(client_id, [("DAY", 5)])
    with pytest.raises(TypeError):
        billing.update_client_quotas(client_id, [QuotaDefinition(QuotaDuration.DAY, 5, "2022-01-01")])
    with pytest.raises(ValueError):
        billing.update_client_quotas("", day_and_month())
    with pytest.raises(ValueError):
        billing.update_client_quotas("x" * 257, day_and_month())
    assert billing.get_client_quotas(client_id) is None


def test_naive_start_date_is_read_in_the_configured_zone(quotad, client_id):
    berlin = ApiBilling(base_url=quotad.url, admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN,
                        time_zone="Europe/Berlin")
    try:
        berlin.update_client_quotas(client_id, [QuotaDefinition(QuotaDuration.DAY, 10, JAN1_2022)])
        doc = berlin.get_client_quotas(client_id)
        (quota,) = doc["quotas"]
        assert quota["time_zone"] == "Europe/Berlin"
        # local midnight in Berlin: 23:00 UTC in winter
        assert quota["reset"] == 1801436400
        remaining, renew = berlin.get_lowest_quota(client_id)
        assert remaining == 10
        assert renew == dt.datetime(2027, 2, 1, 0, 0, 0)  # naive, Berlin time
    finally:
        berlin.close()


def test_aware_start_date_keeps_its_instant(billing, client_id):
    # 2022-01-01T05:30:00+05:30 is midnight UTC: windows at UTC midnight
    anchor = dt.datetime(2022, 1, 1, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    billing.update_client_quotas(client_id, [QuotaDefinition(QuotaDuration.DAY, 3, anchor)])
    assert billing.get_lowest_quota(client_id) == (3, dt.datetime(2027, 2, 1, 0, 0, 0))


def test_replacing_quotas_keeps_usage(billing, client_id):
    billing.update_client_quotas(client_id, day_and_month(day=10))
    for _ in range(4):
        billing.track_client_usage(client_id, use_abort=False)
    billing.update_client_quotas(client_id, [QuotaDefinition(QuotaDuration.DAY, 6, JAN1_2022)])
    assert billing.get_lowest_quota(client_id) == (2, dt.datetime(2027, 2, 1))


def test_delete_client_forgets_everything(billing, client_id):
    billing.update_client_quotas(client_id, day_and_month())
    billing.track_client_usage(client_id, 2, use_abort=False)
    billing.delete_client(client_id)
    assert billing.get_client_quotas(client_id) is None
    assert billing.get_lowest_quota(client_id) == (None, None)
    assert billing.get_total_usage(client_id) == 0


# --- debits --------------------------------------------------------------------------

def test_track_client_usage_debits_every_quota(billing, client_id):
    billing.update_client_quotas(client_id, day_and_month(day=10, month=100))
    result = billing.track_client_usage(client_id)
    assert result.allowed and not result.fail_open
    assert result.credits == 1
    assert result.remaining == 9
    assert result.renew == dt.datetime(2027, 2, 1)
    assert result.headers["X-RateLimit-Remaining"] == "9"
    assert result.headers["X-RateLimit-Reset"] == "1801440000"
    billing.track_client_usage(client_id, credits_used=2.5)
    doc = billing.get_client_quotas(client_id)
    used = {q["duration"]: q["used"] for q in doc["quotas"]}
    assert used == {"DAY": Decimal("3.5"), "MONTH": Decimal("3.5")}
    assert billing.get_lowest_quota(client_id) == (6.5, dt.datetime(2027, 2, 1))


def test_refused_debit_raises_quota_exception(billing, client_id):
    billing.update_client_quotas(client_id, day_and_month(day=5, month=100))
    billing.track_client_usage(client_id, 3, use_abort=False)
    with pytest.raises(QuotaException) as info:
        billing.track_client_usage(client_id, 5, use_abort=False)
    exc = info.value
    assert not isinstance(exc, QuotadUnavailable)
    assert exc.quota_remaining == 2
    assert exc.quota_renew == dt.datetime(2027, 2, 1)
    assert str(exc) == "Quota remaining: 2 | Quota renews: 2027-02-01 00:00:00"
    assert exc.status_code == 429
    assert exc.headers["X-RateLimit-Remaining"] == "2"
    assert exc.headers["X-RateLimit-Reset"] == "1801440000"
    assert exc.headers["Retry-After"] == str(1801440000 - 1801389600)  # 50400 s
    assert exc.retry_after == 50400
    # a refused debit uses nothing
    assert billing.get_total_usage(client_id) == 3
    # outside a Flask request use_abort=True raises too
    with pytest.raises(QuotaException):
        billing.track_client_usage(client_id, 5)


def test_unknown_client_is_refused(billing, client_id):
    with pytest.raises(QuotaException) as info:
        billing.track_client_usage(client_id, use_abort=False)
    assert info.value.status_code == 403
    assert info.value.quota_remaining is None
    assert "You do not have any available quota" in str(info.value)
    assert billing.get_total_usage(client_id) == 0


def test_empty_list_means_known_and_unlimited(billing, client_id):
    billing.update_client_quotas(client_id, [])
    result = billing.track_client_usage(client_id, 1000)
    assert result.remaining is None and result.renew is None
    assert result.headers == {}
    assert billing.get_lowest_quota(client_id) == (None, None)
    assert billing.get_total_usage(client_id) == 1000


def test_all_unlimited_reports_minus_one_and_shortest_window(billing, client_id):
    billing.update_client_quotas(client_id, [
        QuotaDefinition(QuotaDuration.MONTH, QUOTA_UNLIMITED, JAN1_2022),
        QuotaDefinition(QuotaDuration.DAY, QUOTA_UNLIMITED, JAN1_2022)])
    billing.track_client_usage(client_id, 7)
    assert billing.get_lowest_quota(client_id) == (QUOTA_UNLIMITED, dt.datetime(2027, 2, 1))
    billing.update_client_quotas(client_id, [
        QuotaDefinition(QuotaDuration.HOUR, QUOTA_UNLIMITED, JAN1_2022)])
    assert billing.get_lowest_quota(client_id) == (QUOTA_UNLIMITED, dt.datetime(2027, 1, 31, 11))


def test_lowest_quota_picks_fewest_remaining(billing, client_id):
    billing.update_client_quotas(client_id, day_and_month(day=10, month=12))
    billing.track_client_usage(client_id, 4)
    # DAY 6 left, MONTH 8 left
    assert billing.get_lowest_quota(client_id) == (6, dt.datetime(2027, 2, 1))


def test_window_renewal_across_days(quotad, billing, client_id):
    billing.update_client_quotas(client_id, day_and_month(day=10, month=12))
    billing.track_client_usage(client_id, 4)
    set_clock(quotad, "2027-02-01T00:00:00Z")
    # new DAY and MONTH windows: both back to their limits
    assert billing.get_lowest_quota(client_id) == (10, dt.datetime(2027, 2, 2))
    set_clock(quotad, "2027-01-31T23:59:59Z")
    assert billing.get_lowest_quota(client_id) == (6, dt.datetime(2027, 2, 1))


def test_credits_are_exact(billing, client_id):
    billing.update_client_quotas(client_id, [QuotaDefinition(QuotaDuration.DAY, 1, JAN1_2022)])
    for _ in range(10):
        billing.track_client_usage(client_id, 0.1)
    assert billing.get_total_usage(client_id) == 1
    assert billing.get_lowest_quota(client_id) == (0, dt.datetime(2027, 2, 1))
    with pytest.raises(QuotaException):
        billing.track_client_usage(client_id, Decimal("0.000001"), use_abort=False)


def test_float_sums_and_decimals(billing, client_id):
    billing.update_client_quotas(client_id, [])
    billing.track_client_usage(client_id, 0.1 + 0.2)          # 0.30000000000000004 -> 0.3
    billing.track_client_usage(client_id, Decimal("0.000001"))
    billing.track_client_usage(client_id, "2.5")
    assert billing.get_total_usage(client_id) == 2.800001


def test_large_amounts_travel_exactly(quotad, client_id):
    exact = ApiBilling(base_url=quotad.url, admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN,
                       time_zone="UTC", exact_numbers=True)
    try:
        exact.update_client_quotas(client_id, [])
        # 16 significant digits: more than a double carries, sent as a string
        exact.track_client_usage(client_id, Decimal("1234567890.123456"))
        exact.track_client_usage(client_id, Decimal("0.000001"))
        assert exact.get_total_usage(client_id) == Decimal("1234567890.123457")
    finally:
        exact.close()


def test_bad_credits_are_refused_before_any_request(billing, client_id):
    billing.update_client_quotas(client_id, [])
    for bad in (-1, Decimal("0.0000001"), float("nan"), float("inf"), "abc", 10 ** 13):
        with pytest.raises(ValueError):
            billing.track_client_usage(client_id, bad, use_abort=False)
    for bad in (None, True, [1]):
        with pytest.raises(TypeError):
            billing.track_client_usage(client_id, bad, use_abort=False)
    assert billing.get_total_usage(client_id) == 0


def test_idempotency_key_debits_once(billing, client_id):
    billing.update_client_quotas(client_id, day_and_month(day=10))
    first = billing.track_client_usage(client_id, 2, idempotency_key="order-17")
    again = billing.track_client_usage(client_id, 2, idempotency_key="order-17")
    assert first.remaining == 8 and again.remaining == 8
    assert first.replayed is False and again.replayed is True
    assert billing.get_total_usage(client_id) == 2


def test_client_ids_are_escaped(billing):
    odd = "team a/ü:1?x=y#z"
    billing.delete_client(odd)
    billing.update_client_quotas(odd, [QuotaDefinition(QuotaDuration.DAY, 4, JAN1_2022)])
    billing.track_client_usage(odd)
    assert billing.get_client_quotas(odd)["client_id"] == odd
    assert billing.get_lowest_quota(odd) == (3, dt.datetime(2027, 2, 1))
    billing.delete_client(odd)


def test_integer_client_ids_like_the_flask_library(billing):
    billing.delete_client(424242)
    billing.update_client_quotas(424242, [QuotaDefinition(QuotaDuration.DAY, 4, JAN1_2022)])
    billing.track_client_usage(424242)
    assert billing.get_lowest_quota("424242") == (3, dt.datetime(2027, 2, 1))
    assert billing.get_daily_usage(424242)[0].client_id == "424242"
    billing.delete_client(424242)


# --- usage ---------------------------------------------------------------------------

def _debit_at(quotad, billing, client_id, when, credits):
    set_clock(quotad, when)
    billing.track_client_usage(client_id, credits)


def test_total_daily_and_delete_usage(quotad, billing, client_id):
    billing.update_client_quotas(client_id, day_and_month(day=100, month=1000))
    _debit_at(quotad, billing, client_id, "2027-01-29T08:00:00Z", 1)    # 1801123200 + 28800
    _debit_at(quotad, billing, client_id, "2027-01-30T23:59:59Z", 2.5)  # 1801353599
    _debit_at(quotad, billing, client_id, "2027-01-31T00:00:00Z", 4)    # 1801353600
    _debit_at(quotad, billing, client_id, "2027-01-31T10:00:00Z", 0.5)  # 1801389600

    assert billing.get_total_usage(client_id) == 8
    # inclusive at both ends, naive datetimes read in UTC
    assert billing.get_total_usage(client_id, dt.datetime(2027, 1, 30, 23, 59, 59),
                                   dt.datetime(2027, 1, 31)) == 6.5
    assert billing.get_total_usage(client_id, start=dt.datetime(2027, 1, 31)) == 4.5
    assert billing.get_total_usage(client_id, end=1801353599) == 3.5
    assert billing.usage_store.get_total_usage(client_id, None, dt.datetime(2027, 1, 29, 8)) == 1

    days = billing.get_daily_usage(client_id)
    assert [(u.timestamp, u.credits) for u in days] == [
        (1801180800, 1),      # 2027-01-29
        (1801267200, 2.5),    # 2027-01-30
        (1801353600, 4.5),    # 2027-01-31
    ]
    assert all(isinstance(u, Usage) for u in days)
    assert days[0].to_json() == {"clientId": client_id, "timestamp": 1801180800, "credits": 1}
    assert days[2].date == "2027-01-31"
    assert [u.timestamp for u in billing.get_daily_usage(client_id, dt.datetime(2027, 1, 30))] == [
        1801267200, 1801353600]

    # delete the 31st's first debit: the current DAY window recomputes
    assert billing.get_lowest_quota(client_id) == (95.5, dt.datetime(2027, 2, 1))
    billing.delete_client_usage(client_id, dt.datetime(2027, 1, 31), dt.datetime(2027, 1, 31, 0, 0, 0))
    assert billing.get_total_usage(client_id) == 4
    assert billing.get_lowest_quota(client_id) == (99.5, dt.datetime(2027, 2, 1))
    billing.delete_client_usage(client_id)
    assert billing.get_total_usage(client_id) == 0
    assert billing.get_daily_usage(client_id) == []
    assert billing.get_lowest_quota(client_id) == (100, dt.datetime(2027, 2, 1))


def test_daily_usage_in_the_configured_zone(quotad, client_id):
    berlin = ApiBilling(base_url=quotad.url, admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN,
                        time_zone="Europe/Berlin")
    try:
        berlin.update_client_quotas(client_id, [])
        _debit_at(quotad, berlin, client_id, "2027-01-30T22:30:00Z", 1)  # 23:30 on the 30th in Berlin
        _debit_at(quotad, berlin, client_id, "2027-01-30T23:30:00Z", 2)  # 00:30 on the 31st in Berlin
        days = berlin.get_daily_usage(client_id)
        # Berlin midnights: 2027-01-30 = 1801267200 - 3600, 2027-01-31 = 1801353600 - 3600
        assert [(u.timestamp, u.credits) for u in days] == [(1801263600, 1), (1801350000, 2)]
        # a naive bound is Berlin time: from 2027-01-31 00:00 Berlin
        assert berlin.get_total_usage(client_id, dt.datetime(2027, 1, 31)) == 2
    finally:
        berlin.close()


def test_usage_of_unknown_client_is_empty(billing, client_id):
    assert billing.get_total_usage(client_id) == 0
    assert billing.get_daily_usage(client_id) == []
    billing.delete_client_usage(client_id)  # nothing to delete, no error


def test_bad_range_bounds(billing, client_id):
    with pytest.raises(TypeError):
        billing.get_total_usage(client_id, "yesterday")
    with pytest.raises(ValueError):
        billing.get_total_usage(client_id, float("nan"))


# --- tokens and errors -----------------------------------------------------------------

def test_missing_and_wrong_tokens(quotad, client_id):
    no_tokens = ApiBilling(base_url=quotad.url, admin_token="", gateway_token="", time_zone="UTC")
    wrong = ApiBilling(base_url=quotad.url, admin_token="nope", gateway_token="nope", time_zone="UTC")
    right = ApiBilling(base_url=quotad.url, admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN,
                       time_zone="UTC")
    try:
        with pytest.raises(QuotadError) as info:
            no_tokens.update_client_quotas(client_id, day_and_month())
        assert info.value.status == 401
        with pytest.raises(QuotadError) as info:
            wrong.update_client_quotas(client_id, day_and_month())
        assert info.value.status == 403
        assert not isinstance(info.value, QuotaException)
        right.update_client_quotas(client_id, day_and_month())
        # a wrong gateway token is an error, not "no quota"
        with pytest.raises(QuotadError) as info:
            wrong.track_client_usage(client_id, use_abort=False)
        assert info.value.status == 403
        assert not isinstance(info.value, QuotaException)
        with pytest.raises(QuotadError) as info:
            no_tokens.track_client_usage(client_id, use_abort=False)
        assert info.value.status == 401
        assert right.get_total_usage(client_id) == 0
    finally:
        for api in (no_tokens, wrong, right):
            api.close()


def test_server_side_validation_is_a_value_error(billing, client_id):
    # a body the client itself would never send: quotad's 400 becomes QuotadBadRequest
    resp = billing._call("PUT", f"/v1/clients/{client_id}/quotas",
                         {"quotas": [{"duration": "DAY", "credit_limit": "lots",
                                      "start_date": "2022-01-01T00:00:00Z"}]},
                         token=ADMIN_TOKEN)
    with pytest.raises(QuotadBadRequest) as info:
        billing._expect(resp, (200,))
    assert isinstance(info.value, ValueError)
    assert info.value.status == 400
    assert "credit_limit" in str(info.value)


def test_constructor_checks(quotad):
    with pytest.raises(ValueError):
        ApiBilling(base_url="ftp://example")
    with pytest.raises(ValueError):
        ApiBilling(base_url=quotad.url, time_zone="Nowhere/Land")
    with pytest.raises(ValueError):
        ApiBilling(base_url=quotad.url, pool_size=0)
    with pytest.raises(ValueError):
        ApiBilling(base_url=quotad.url, timeout=0)


# --- connections ---------------------------------------------------------------------

def _pooled_ports(api):
    ports = set()
    for node in api.transport._nodes:
        for conn in node._idle:
            if conn.sock is not None:
                ports.add(conn.sock.getsockname()[1])
    return ports


def test_keep_alive_connection_is_reused(billing, client_id):
    billing.update_client_quotas(client_id, day_and_month(day=100))
    billing.track_client_usage(client_id)
    ports = _pooled_ports(billing)
    assert len(ports) == 1
    for _ in range(5):
        billing.track_client_usage(client_id)
        billing.get_lowest_quota(client_id)
    assert _pooled_ports(billing) == ports
    assert billing.transport.idle_connections() == 1


def test_reconnects_after_the_server_restarts(quotad, billing, client_id):
    billing.update_client_quotas(client_id, day_and_month(day=100))
    billing.track_client_usage(client_id)
    before = _pooled_ports(billing)
    quotad.restart()  # same port: the pooled connection is dead now
    set_clock(quotad, NOW)
    result = billing.track_client_usage(client_id)  # a debit without key: never sent twice
    assert result.remaining == 98
    assert _pooled_ports(billing) != before
    assert billing.get_total_usage(client_id) == 2


def test_concurrent_debits_share_the_pool(quotad, client_id):
    api = ApiBilling(base_url=quotad.url, admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN,
                     time_zone="UTC", pool_size=4)
    outcomes = []
    lock = threading.Lock()

    def worker():
        for _ in range(15):
            try:
                api.track_client_usage(client_id, use_abort=False)
                ok = True
            except QuotaException:
                ok = False
            with lock:
                outcomes.append(ok)
    try:
        api.update_client_quotas(client_id, [QuotaDefinition(QuotaDuration.DAY, 50, JAN1_2022)])
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count(True) == 50
        assert outcomes.count(False) == 40
        assert api.transport.idle_connections() <= 4
        assert api.get_total_usage(client_id) == 50
    finally:
        api.close()


def test_unreachable_cluster_fails_closed(dead_url):
    api = ApiBilling(base_url=dead_url, time_zone="UTC", timeout=2)
    try:
        with pytest.raises(QuotadUnavailable) as info:
            api.track_client_usage("anyone", use_abort=False)
        exc = info.value
        assert isinstance(exc, QuotaException)       # code written for the Flask library refuses the call
        assert isinstance(exc, QuotadError)
        assert "unreachable" in str(exc) and dead_url in str(exc)
        assert exc.outcome_unknown is False
        with pytest.raises(QuotadUnavailable):
            api.get_lowest_quota("anyone")
        with pytest.raises(QuotadUnavailable):
            api.update_client_quotas("anyone", day_and_month())
    finally:
        api.close()


def test_unreachable_cluster_fails_open_when_asked(dead_url, caplog):
    api = ApiBilling(base_url=dead_url, time_zone="UTC", timeout=2, fail_open=True)
    try:
        with caplog.at_level(logging.WARNING, logger="quotad_client"):
            result = api.track_client_usage("anyone", 2.5)
        assert result.allowed and result.fail_open
        assert result.credits == 2.5 and result.remaining is None
        assert any("let through" in r.getMessage() and "anyone" in r.getMessage() for r in caplog.records)
        # reads still say what happened
        with pytest.raises(QuotadUnavailable):
            api.get_total_usage("anyone")
    finally:
        api.close()


def test_fails_over_to_the_next_node(quotad, dead_url, client_id):
    api = ApiBilling(base_url=[dead_url, quotad.url], admin_token=ADMIN_TOKEN,
                     gateway_token=GATEWAY_TOKEN, time_zone="UTC")
    try:
        api.update_client_quotas(client_id, day_and_month(day=10))
        assert api.track_client_usage(client_id).remaining == 9
    finally:
        api.close()


def test_timeout_leaves_the_outcome_unknown(silent_url):
    api = ApiBilling(base_url=silent_url, time_zone="UTC", timeout=0.3)
    try:
        with pytest.raises(QuotadUnavailable) as info:
            api.track_client_usage("anyone", use_abort=False)
        assert info.value.outcome_unknown is True
        assert "may or may not have been applied" in str(info.value)
    finally:
        api.close()
