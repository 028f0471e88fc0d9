"""Debits: exact credits, refusals, the lowest quota, headers, dry runs,
idempotency, /v1/authorize and /v1/usage:batch (SPEC §3, §4, §6)."""
import pytest

from conftest import (NOW, assert_problem, batch, authorize, debit, epoch, find_quota,
                      get_status, ledger_total, lit, policy_items, put_quotas, quota,
                      renew_epoch, set_clock, snapshot, advance, violated_durations)

DAY_END = epoch("2026-12-04T00:00:00Z")
HOUR_END = epoch("2026-12-03T11:00:00Z")
SECONDS_TO_MIDNIGHT = 14 * 3600  # from NOW (10:00Z)


def setup_client(node, quotas, client="acme", now=NOW):
    set_clock(node, now)
    return put_quotas(node, client, quotas)


def assert_lowest(reply, remaining, reset):
    """A debit answer or 429 carries the reported quota in body and X-RateLimit-* headers."""
    if reply.status == 200:
        assert reply["allowed"] is True, reply
        body_remaining, body_reset = reply["remaining"], reply["reset"]
    else:
        body_remaining, body_reset = reply["quota_remaining"], renew_epoch(reply["quota_renew"])
    assert lit(body_remaining) == remaining, reply
    assert body_reset == reset, reply
    assert reply.header("X-RateLimit-Remaining") == remaining, reply
    assert int(reply.header("X-RateLimit-Reset")) == reset, reply


# ---------------------------------------------------------------- exact credits

def test_default_debit_is_one_credit(node):
    setup_client(node, [quota("DAY", 500)])
    r = debit(node, "acme", expect=200)
    assert r["allowed"] is True
    assert r["credits"] == 1
    assert_lowest(r, "499", DAY_END)


def test_ten_debits_of_a_tenth_use_exactly_one_credit(node):
    setup_client(node, [quota("DAY", 500)])
    for _ in range(10):
        assert lit(debit(node, "acme", 0.1, expect=200)["credits"]) == "0.1"
    day = find_quota(get_status(node, "acme"), "DAY")
    assert lit(day["used"]) == "1"
    assert lit(day["remaining"]) == "499"
    assert lit(ledger_total(node, "acme")) == "1"


def test_sums_are_exact_and_printed_shortest(node):
    setup_client(node, [quota("DAY", 500)])
    debit(node, "acme", 0.1, expect=200)
    r = debit(node, "acme", 0.2, expect=200)
    assert lit(r["remaining"]) == "499.7"
    assert lit(find_quota(get_status(node, "acme"), "DAY")["used"]) == "0.3"
    assert lit(ledger_total(node, "acme")) == "0.3"


def test_fractional_debit_answers_487_5(node):
    setup_client(node, [quota("DAY", 500)])
    r = debit(node, "acme", 12.5, expect=200)
    assert lit(r["credits"]) == "12.5"
    assert_lowest(r, "487.5", DAY_END)
    r = debit(node, "acme", 0.000001, expect=200)
    assert_lowest(r, "487.499999", DAY_END)
    assert lit(find_quota(get_status(node, "acme"), "DAY")["used"]) == "12.500001"


def test_fractional_limit(node):
    setup_client(node, [quota("DAY", 2.5)])
    debit(node, "acme", expect=200)
    assert_lowest(debit(node, "acme", expect=200), "0.5", DAY_END)
    r = debit(node, "acme", expect=429)
    assert_lowest(r, "0.5", DAY_END)


# ---------------------------------------------------------------- refusals

def test_refusal_records_nothing(node):
    setup_client(node, [quota("DAY", 5)])
    assert_lowest(debit(node, "acme", 3, expect=200), "2", DAY_END)
    before = snapshot(node, "acme")

    r = debit(node, "acme", 5, expect=None)
    body = assert_problem(r, 429)
    assert "2 credits remaining" in body["detail"], body
    assert "5 are required" in body["detail"], body
    assert "2026-12-04 00:00:00" in body["detail"], body
    assert_lowest(r, "2", DAY_END)
    assert violated_durations(body) == ["DAY"]
    assert int(r.header("Retry-After")) == SECONDS_TO_MIDNIGHT

    assert snapshot(node, "acme") == before
    assert find_quota(before[0], "DAY")["used"] == 3
    assert before[1] == 3
    # the two remaining credits are still there
    assert_lowest(debit(node, "acme", 2, expect=200), "0", DAY_END)


def test_refusal_is_all_or_nothing_across_windows(node):
    setup_client(node, [quota("DAY", 100), quota("HOUR", 4)])
    debit(node, "acme", 3, expect=200)
    r = debit(node, "acme", 2, expect=429)     # HOUR has 1 left
    assert violated_durations(r.json) == ["HOUR"]
    doc = get_status(node, "acme")
    assert find_quota(doc, "DAY")["used"] == 3
    assert find_quota(doc, "HOUR")["used"] == 3
    assert ledger_total(node, "acme") == 3

    debit(node, "acme", 1, expect=200)
    doc = get_status(node, "acme")
    assert find_quota(doc, "DAY")["used"] == 4
    assert find_quota(doc, "HOUR")["used"] == 4
    assert ledger_total(node, "acme") == 4


def test_violated_reporting_and_retry_after(node):
    setup_client(node, [quota("HOUR", 10), quota("DAY", 20), quota("MONTH", 1000)],
                 now="2026-12-03T10:15:00Z")
    assert_lowest(debit(node, "acme", 8, expect=200), "2", HOUR_END)
    before = snapshot(node, "acme")

    # HOUR (2 left) and DAY (12 left) are violated, MONTH (992) is not
    r = debit(node, "acme", 15, expect=429)
    assert violated_durations(r.json) == ["DAY", "HOUR"]
    assert_lowest(r, "2", HOUR_END)                 # the violated one with fewest remaining
    assert int(r.header("Retry-After")) == DAY_END - epoch("2026-12-03T10:15:00Z")  # 49500
    assert snapshot(node, "acme") == before


def test_reported_quota_is_the_violated_one(node):
    setup_client(node, [quota("HOUR", 100), quota("DAY", 20)], now="2026-12-03T10:15:00Z")
    debit(node, "acme", 15, expect=200)             # HOUR 85 left, DAY 5 left
    r = debit(node, "acme", 10, expect=429)
    assert violated_durations(r.json) == ["DAY"]
    assert_lowest(r, "5", DAY_END)
    assert int(r.header("Retry-After")) == 49500


def test_retry_after_is_the_end_of_the_only_violated_window(node):
    setup_client(node, [quota("HOUR", 3), quota("DAY", 100)], now="2026-12-03T10:15:00Z")
    debit(node, "acme", 2, expect=200)
    r = debit(node, "acme", 2, expect=429)
    assert violated_durations(r.json) == ["HOUR"]
    assert_lowest(r, "1", HOUR_END)
    assert int(r.header("Retry-After")) == 45 * 60


def test_retry_after_tells_when_the_debit_first_succeeds(node):
    setup_client(node, [quota("HOUR", 3), quota("DAY", 5)], now="2026-12-03T10:15:00Z")
    debit(node, "acme", 3, expect=200)
    r = debit(node, "acme", 3, expect=429)          # HOUR 0 left, DAY 2 left: both violated
    wait = int(r.header("Retry-After"))
    assert wait == DAY_END - epoch("2026-12-03T10:15:00Z")
    advance(node, wait - 1)
    debit(node, "acme", 3, expect=429)
    advance(node, 1)
    debit(node, "acme", 3, expect=200)


# ---------------------------------------------------------------- the lowest quota

def test_lowest_is_the_fewest_remaining(node):
    setup_client(node, [quota("DAY", 500), quota("MONTH", 100)])
    r = debit(node, "acme", 10, expect=200)
    assert_lowest(r, "90", epoch("2027-01-01T00:00:00Z"))
    lowest = get_status(node, "acme")["lowest"]
    assert (lowest["remaining"], lowest["reset"]) == (90, epoch("2027-01-01T00:00:00Z"))


@pytest.mark.parametrize("quotas,reset", [
    ([quota("MONTH", 50), quota("DAY", 50)], DAY_END),
    ([quota("YEAR", 50), quota("WEEK", 50), quota("DAY", 50)], DAY_END),
    ([quota("HOUR", 10), quota("MINUTE", 10)], epoch("2026-12-03T10:01:00Z")),
])
def test_a_tie_goes_to_the_shorter_duration(node, quotas, reset):
    r = setup_client(node, quotas)
    assert r["lowest"]["reset"] == reset
    remaining = str(quotas[0]["credit_limit"] - 1)
    assert_lowest(debit(node, "acme", expect=200), remaining, reset)


# ---------------------------------------------------------------- headers

def test_ietf_headers_single_definition(node):
    setup_client(node, [quota("DAY", 500)])
    r = debit(node, "acme", 12.5, expect=200)
    assert policy_items(r.header("RateLimit-Policy")) == {"day": {"q": "500", "w": "86400"}}
    assert policy_items(r.header("RateLimit")) == {"day": {"r": "487", "t": str(SECONDS_TO_MIDNIGHT)}}
    assert r.header("RateLimit-Policy").replace(" ", "") == '"day";q=500;w=86400'
    assert r.header("RateLimit").replace(" ", "") == f'"day";r=487;t={SECONDS_TO_MIDNIGHT}'


def test_ietf_headers_on_a_refusal(node):
    setup_client(node, [quota("DAY", 5)])
    debit(node, "acme", 4.5, expect=200)
    r = debit(node, "acme", 1, expect=429)
    assert policy_items(r.header("RateLimit-Policy")) == {"day": {"q": "5", "w": "86400"}}
    assert policy_items(r.header("RateLimit")) == {"day": {"r": "0", "t": str(SECONDS_TO_MIDNIGHT)}}
    assert r.header("X-RateLimit-Remaining") == "0.5"


def test_policy_lists_every_limited_definition_floored(node):
    setup_client(node, [quota("HOUR", 10.5), quota("DAY", 500), quota("MONTH", -1)])
    r = debit(node, "acme", expect=200)
    assert policy_items(r.header("RateLimit-Policy")) == {
        "hour": {"q": "10", "w": "3600"},
        "day": {"q": "500", "w": "86400"},
    }
    # the reported (lowest) quota is the hour: 9.5 left, floored to 9, 3600 s to go
    assert_lowest(r, "9.5", HOUR_END)
    assert policy_items(r.header("RateLimit"))["hour"] == {"r": "9", "t": "3600"}


def test_unlimited_definitions(node):
    r = setup_client(node, [quota("DAY", -1), quota("HOUR", -1)])
    assert find_quota(r, "DAY")["remaining"] == -1
    assert find_quota(r, "HOUR")["remaining"] == -1
    assert (r["lowest"]["remaining"], r["lowest"]["reset"]) == (-1, HOUR_END)
    d = debit(node, "acme", 1000, expect=200)
    assert_lowest(d, "-1", HOUR_END)          # the shortest definition's window end
    assert d.header("RateLimit") is None and d.header("RateLimit-Policy") is None, d
    doc = get_status(node, "acme")
    assert find_quota(doc, "DAY")["used"] == 1000
    assert find_quota(doc, "DAY")["remaining"] == -1


def test_unlimited_next_to_limited(node):
    setup_client(node, [quota("DAY", -1), quota("HOUR", 10)])
    d = debit(node, "acme", expect=200)
    assert_lowest(d, "9", HOUR_END)
    assert set(policy_items(d.header("RateLimit-Policy"))) == {"hour"}
    assert find_quota(get_status(node, "acme"), "DAY")["remaining"] == -1


def test_remaining_never_negative_after_lowering_a_limit(node):
    setup_client(node, [quota("DAY", 10)])
    debit(node, "acme", 8, expect=200)
    r = put_quotas(node, "acme", [quota("DAY", 5)])
    day = find_quota(r, "DAY")
    assert (day["used"], day["remaining"]) == (8, 0)
    assert r["lowest"]["remaining"] == 0
    d = debit(node, "acme", expect=429)
    assert_lowest(d, "0", DAY_END)
    assert policy_items(d.header("RateLimit"))["day"]["r"] == "0"
    assert ledger_total(node, "acme") == 8


# ---------------------------------------------------------------- dry runs

def test_dry_run_answers_but_records_nothing(node):
    setup_client(node, [quota("DAY", 10)])
    debit(node, "acme", 4, expect=200)
    before = snapshot(node, "acme")

    r = debit(node, "acme", 5, dry_run=True, expect=200)
    assert r["allowed"] is True and r["credits"] == 5
    assert_lowest(r, "1", DAY_END)
    assert snapshot(node, "acme") == before

    r = debit(node, "acme", 7, dry_run=True, expect=429)
    assert_lowest(r, "6", DAY_END)
    assert snapshot(node, "acme") == before

    assert_lowest(debit(node, "acme", 6, dry_run=False, expect=200), "0", DAY_END)
    assert ledger_total(node, "acme") == 10


def test_dry_run_for_an_unknown_client(node):
    set_clock(node, NOW)
    assert "You do not have any available quota" in debit(node, "ghost", 1, dry_run=True,
                                                          expect=403)["detail"]


# ---------------------------------------------------------------- idempotency

ANSWER = ("allowed", "credits", "remaining", "reset")


def answer(reply):
    return {k: reply[k] for k in ANSWER}


def test_same_key_same_answer_debited_once(node):
    setup_client(node, [quota("DAY", 10)])
    first = debit(node, "acme", 3, key="k1", expect=200)
    assert_lowest(first, "7", DAY_END)
    again = debit(node, "acme", 3, key="k1", expect=200)
    assert answer(again) == answer(first)
    assert ledger_total(node, "acme") == 3

    assert_lowest(debit(node, "acme", 1, expect=200), "6", DAY_END)
    # still the first debit's answer, still nothing more debited
    assert answer(debit(node, "acme", 3, key="k1", expect=200)) == answer(first)
    assert find_quota(get_status(node, "acme"), "DAY")["used"] == 4
    assert ledger_total(node, "acme") == 4


def test_key_is_remembered_across_windows_within_retention(node):
    setup_client(node, [quota("DAY", 10)])
    first = debit(node, "acme", 3, key="k1", expect=200)
    advance(node, 23 * 3600)                     # next day, 09:00: a new DAY window
    again = debit(node, "acme", 3, key="k1", expect=200)
    assert answer(again) == answer(first)
    assert find_quota(get_status(node, "acme"), "DAY")["used"] == 0
    assert ledger_total(node, "acme") == 3


def test_keys_belong_to_their_client(node):
    setup_client(node, [quota("DAY", 10)], client="a")
    put_quotas(node, "b", [quota("DAY", 10)])
    debit(node, "a", 3, key="shared", expect=200)
    r = debit(node, "b", 2, key="shared", expect=200)
    assert_lowest(r, "8", DAY_END)
    assert ledger_total(node, "a") == 3
    assert ledger_total(node, "b") == 2


def test_refused_key_is_judged_afresh(node):
    setup_client(node, [quota("DAY", 10)])
    debit(node, "acme", 11, key="big", expect=429)
    assert ledger_total(node, "acme") == 0
    put_quotas(node, "acme", [quota("DAY", 20)])
    first = debit(node, "acme", 11, key="big", expect=200)
    assert_lowest(first, "9", DAY_END)
    assert answer(debit(node, "acme", 11, key="big", expect=200)) == answer(first)
    assert ledger_total(node, "acme") == 11


def test_dry_run_does_not_consume_a_key(node):
    setup_client(node, [quota("DAY", 10)])
    debit(node, "acme", 2, key="k", dry_run=True, expect=200)
    assert_lowest(debit(node, "acme", 2, key="k", expect=200), "8", DAY_END)
    assert ledger_total(node, "acme") == 2


# ---------------------------------------------------------------- /v1/authorize

def test_authorize_debits_like_a_debit(node):
    setup_client(node, [quota("DAY", 3)])
    r = authorize(node, "acme", credits=2, expect=200)
    assert r.raw == b""
    assert r.header("X-RateLimit-Remaining") == "1"
    assert int(r.header("X-RateLimit-Reset")) == DAY_END
    r = authorize(node, "acme", method="POST", expect=200)   # 1 credit by default
    assert r.header("X-RateLimit-Remaining") == "0"

    r = authorize(node, "acme", expect=429)
    assert r.header("X-RateLimit-Remaining") == "0"
    assert int(r.header("Retry-After")) == SECONDS_TO_MIDNIGHT
    authorize(node, "acme", query="?deny_status=403", expect=403)
    assert ledger_total(node, "acme") == 3
    assert find_quota(get_status(node, "acme"), "DAY")["used"] == 3


def test_authorize_fractional_credits(node):
    setup_client(node, [quota("DAY", 3)])
    r = authorize(node, "acme", credits="0.25", expect=200)
    assert r.header("X-RateLimit-Remaining") == "2.75"
    assert lit(ledger_total(node, "acme")) == "0.25"


def test_authorize_unknown_client(node):
    set_clock(node, NOW)
    authorize(node, "ghost", expect=403)
    authorize(node, "ghost", query="?deny_status=403", expect=403)
    get_status(node, "ghost", expect=404)


# ---------------------------------------------------------------- /v1/usage:batch

def test_batch_judges_each_item_in_order(node):
    setup_client(node, [quota("DAY", 10)], client="a")
    put_quotas(node, "b", [quota("DAY", 1)])
    r = batch(node, [
        {"client_id": "a", "credits": 1},
        {"client_id": "b", "credits": 1},
        {"client_id": "b", "credits": 1},
        {"client_id": "nobody", "credits": 1},
        {"client_id": "a", "credits": -1},
        {"client_id": "a", "credits": 2},
        {"client_id": "a"},
    ])
    results = r["results"]
    assert [x["client_id"] for x in results] == ["a", "b", "b", "nobody", "a", "a", "a"]
    assert [x["status"] for x in results] == [200, 200, 429, 403, 400, 200, 200]
    assert [(x["remaining"], x["reset"]) for x in results if x["status"] == 200] == [
        (9, DAY_END), (0, DAY_END), (7, DAY_END), (6, DAY_END)]
    assert ledger_total(node, "a") == 4
    assert ledger_total(node, "b") == 1
    get_status(node, "nobody", expect=404)


def test_batch_idempotency_keys(node):
    setup_client(node, [quota("DAY", 10)], client="a")
    item = {"client_id": "a", "credits": 3, "idempotency_key": "bk"}
    first = batch(node, [item])["results"][0]
    again = batch(node, [item])["results"][0]
    assert first["status"] == again["status"] == 200
    assert (again["remaining"], again["reset"]) == (first["remaining"], first["reset"]) == (7, DAY_END)
    # the same key on the single-debit route is the same debit
    assert debit(node, "a", 3, key="bk", expect=200)["remaining"] == 7
    assert ledger_total(node, "a") == 3
