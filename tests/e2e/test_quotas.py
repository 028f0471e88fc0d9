"""Quota definitions and the status document (SPEC §1, §4, §6)."""
import pytest

from conftest import (NOW, advance, assert_problem, call, client_path, debit,
                      delete_client, epoch, find_quota, get_status, ledger_total, lit,
                      put_quotas, quota, set_clock, usage, window)

DAY_END = epoch("2026-12-04T00:00:00Z")


def test_put_returns_the_status_document(node):
    set_clock(node, NOW)
    r = put_quotas(node, "acme", [quota("DAY", 500), quota("MONTH", 10000)])
    assert r["client_id"] == "acme"
    assert len(r["quotas"]) == 2

    day = find_quota(r, "DAY")
    assert day["credit_limit"] == 500
    assert day["used"] == 0
    assert day["remaining"] == 500
    assert window(r, "DAY") == (epoch("2026-12-03T00:00:00Z"), DAY_END)

    month = find_quota(r, "MONTH")
    assert month["credit_limit"] == 10000
    assert (month["used"], month["remaining"]) == (0, 10000)
    assert window(r, "MONTH") == (epoch("2026-12-01T00:00:00Z"), epoch("2027-01-01T00:00:00Z"))

    assert r["lowest"]["remaining"] == 500
    assert r["lowest"]["reset"] == DAY_END

    # GET answers the same document
    assert get_status(node, "acme").json == r.json


def test_status_document_after_debits(node):
    set_clock(node, NOW)
    put_quotas(node, "acme", [quota("DAY", 500), quota("MONTH", 10000)])
    debit(node, "acme", 12.5, expect=200)
    doc = get_status(node, "acme")
    day, month = find_quota(doc, "DAY"), find_quota(doc, "MONTH")
    assert lit(day["used"]) == "12.5" and lit(day["remaining"]) == "487.5"
    assert lit(month["used"]) == "12.5" and lit(month["remaining"]) == "9987.5"
    assert lit(doc["lowest"]["remaining"]) == "487.5"
    assert doc["lowest"]["reset"] == DAY_END


def test_duration_is_case_insensitive_on_input_and_upper_case_on_output(node):
    set_clock(node, NOW)
    r = put_quotas(node, "acme", [quota("day", 5), quota("Hour", 2)])
    assert sorted(q["duration"] for q in r["quotas"]) == ["DAY", "HOUR"]


def test_time_zone_is_echoed(node):
    set_clock(node, NOW)
    r = put_quotas(node, "acme", [quota("DAY", 5, tz="Europe/Berlin")])
    assert find_quota(r, "DAY")["time_zone"] == "Europe/Berlin"


@pytest.mark.parametrize("second", ["DAY", "day"])
def test_duplicate_duration_rejects_the_whole_list(node, second):
    set_clock(node, NOW)
    put_quotas(node, "acme", [quota("DAY", 500)])
    debit(node, "acme", expect=200)
    before = get_status(node, "acme").json

    r = put_quotas(node, "acme", [quota("HOUR", 7), quota("DAY", 100), quota(second, 200)],
                   expect=None)
    assert_problem(r, 400, "duration", "duplicate")
    assert get_status(node, "acme").json == before
    assert find_quota(before, "DAY")["credit_limit"] == 500


def test_duplicate_duration_leaves_an_unknown_client_unknown(node):
    set_clock(node, NOW)
    r = put_quotas(node, "newcomer", [quota("DAY", 1), quota("DAY", 2)], expect=None)
    assert_problem(r, 400, "duration", "duplicate")
    get_status(node, "newcomer", expect=404)
    debit(node, "newcomer", expect=403)


def test_empty_list_is_known_and_unlimited(node):
    set_clock(node, NOW)
    r = put_quotas(node, "free", [])
    assert r["client_id"] == "free"
    assert r["quotas"] == []
    assert r["lowest"] is None
    for _ in range(3):
        d = debit(node, "free", 100, expect=200)
        assert d["allowed"] is True
        assert d["credits"] == 100
        for h in ("x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit", "ratelimit-policy"):
            assert h not in d.headers, f"{h} on a client without quotas: {d!r}"
    assert ledger_total(node, "free") == 300
    assert get_status(node, "free")["lowest"] is None


def test_unknown_client(node):
    set_clock(node, NOW)
    assert_problem(get_status(node, "ghost", expect=None), 404)
    r = debit(node, "ghost", expect=None)
    body = assert_problem(r, 403)
    assert "You do not have any available quota" in body["detail"]
    # a refused debit does not create the client
    assert_problem(get_status(node, "ghost", expect=None), 404)
    assert_problem(usage(node, "ghost", expect=None), 404)


def test_delete_client_forgets_everything(node):
    set_clock(node, NOW)
    put_quotas(node, "gone", [quota("DAY", 10)])
    debit(node, "gone", 4, expect=200)
    r = delete_client(node, "gone")
    assert r.raw == b""
    get_status(node, "gone", expect=404)
    usage(node, "gone", expect=404)
    assert "You do not have any available quota" in debit(node, "gone", expect=403)["detail"]
    # given quotas again, it starts from nothing: the ledger went with it
    r = put_quotas(node, "gone", [quota("DAY", 10)])
    assert find_quota(r, "DAY")["used"] == 0
    assert ledger_total(node, "gone") == 0


def test_delete_client_leaves_other_clients_alone(node):
    set_clock(node, NOW)
    put_quotas(node, "a", [quota("DAY", 10)])
    put_quotas(node, "b", [quota("DAY", 10)])
    debit(node, "a", 2, expect=200)
    debit(node, "b", 3, expect=200)
    delete_client(node, "a")
    assert find_quota(get_status(node, "b"), "DAY")["used"] == 3
    assert ledger_total(node, "b") == 3


def test_replacing_definitions_keeps_usage_history(node):
    set_clock(node, "2026-12-02T23:00:00Z")
    put_quotas(node, "acme", [quota("DAY", 500)])
    debit(node, "acme", 7, expect=200)      # yesterday
    set_clock(node, "2026-12-03T10:00:00Z")
    debit(node, "acme", 5, expect=200)      # today, 10:00
    set_clock(node, "2026-12-03T12:20:00Z")
    debit(node, "acme", 3, expect=200)      # today, 12:20

    r = put_quotas(node, "acme", [quota("HOUR", 100), quota("DAY", 50), quota("MONTH", 1000),
                                  quota("WEEK", 1000, start="2022-01-01T11:00:00")])
    assert find_quota(r, "HOUR")["used"] == 3          # [12:00, 13:00)
    assert find_quota(r, "HOUR")["remaining"] == 97
    assert find_quota(r, "DAY")["used"] == 8           # [Dec 3 00:00, Dec 4 00:00)
    assert find_quota(r, "DAY")["remaining"] == 42
    assert find_quota(r, "MONTH")["used"] == 15        # [Dec 1, Jan 1)
    # weeks from Saturday 11:00: [Sat Nov 28 11:00, Sat Dec 5 11:00) holds all three
    assert window(r, "WEEK") == (epoch("2026-11-28T11:00:00Z"), epoch("2026-12-05T11:00:00Z"))
    assert find_quota(r, "WEEK")["used"] == 15
    assert r["lowest"]["remaining"] == 42
    assert r["lowest"]["reset"] == DAY_END

    # a day anchored at 11:00 only holds the 12:20 debit
    r = put_quotas(node, "acme", [quota("DAY", 50, start="2022-01-01T11:00:00")])
    assert window(r, "DAY") == (epoch("2026-12-03T11:00:00Z"), epoch("2026-12-04T11:00:00Z"))
    assert find_quota(r, "DAY")["used"] == 3
    assert ledger_total(node, "acme") == 15


def test_replaced_definitions_count_debits_made_without_quotas(node):
    """Debits of an unlimited (empty-list) client are recorded and count once limits come."""
    set_clock(node, NOW)
    put_quotas(node, "acme", [])
    debit(node, "acme", 4, expect=200)
    advance(node, 60)
    debit(node, "acme", 0.5, expect=200)
    r = put_quotas(node, "acme", [quota("DAY", 5)])
    assert lit(find_quota(r, "DAY")["used"]) == "4.5"
    assert lit(find_quota(r, "DAY")["remaining"]) == "0.5"
    debit(node, "acme", 1, expect=429)
    debit(node, "acme", 0.5, expect=200)


@pytest.mark.parametrize("client", ["a/b", "ünïcödé client", "x" * 256, "é" * 128, "?#%&+"])
def test_opaque_ids_are_percent_encoded_in_paths(node, client):
    set_clock(node, NOW)
    r = put_quotas(node, client, [quota("DAY", 3)])
    assert r["client_id"] == client
    debit(node, client, 2, expect=200)
    assert get_status(node, client)["client_id"] == client
    assert find_quota(get_status(node, client), "DAY")["used"] == 2
    assert ledger_total(node, client) == 2
    delete_client(node, client)
    get_status(node, client, expect=404)


def test_put_with_unlimited_definition(node):
    set_clock(node, NOW)
    r = put_quotas(node, "acme", [quota("DAY", -1)])
    day = find_quota(r, "DAY")
    assert day["credit_limit"] == -1
    assert day["remaining"] == -1
    assert r["lowest"]["remaining"] == -1
    assert r["lowest"]["reset"] == DAY_END


def test_zero_limit_refuses_every_debit(node):
    set_clock(node, NOW)
    put_quotas(node, "acme", [quota("DAY", 0)])
    r = debit(node, "acme", expect=429)
    assert r["quota_remaining"] == 0
    assert ledger_total(node, "acme") == 0


def test_reads_do_not_need_the_admin_token(admin_node):
    set_clock(admin_node, NOW)
    put_quotas(admin_node, "acme", [quota("DAY", 5)])
    r = call(admin_node, "GET", client_path("acme") + "/quotas")
    assert r.status == 200, r
    assert r["client_id"] == "acme"
