"""The usage ledger: totals, daily usage, deletes (SPEC §5, §6)."""
from conftest import (assert_problem, call, client_path, debit, delete_usage, epoch,
                      find_quota, get_status, ledger_total, lit, put_quotas, quota, set_clock,
                      usage)

# (time, credits) of the debits every test here starts from
DEBITS = [
    ("2026-12-01T10:00:00Z", 1),
    ("2026-12-01T23:30:00Z", 2),
    ("2026-12-02T00:30:00Z", 4),
    ("2026-12-03T12:00:00Z", 8.5),
]
AFTER = "2026-12-03T13:00:00Z"


def record(node, client="led", debits=DEBITS, now=AFTER):
    set_clock(node, debits[0][0])
    put_quotas(node, client, [quota("DAY", 100), quota("MONTH", 1000)])
    for when, credits in debits:
        set_clock(node, when)
        debit(node, client, credits, expect=200)
    set_clock(node, now)


def days(reply):
    return [(d["date"], d["timestamp"], d["credits"]) for d in reply["days"]]


# ---------------------------------------------------------------- totals

def test_total_of_everything(node):
    record(node)
    assert lit(ledger_total(node, "led")) == "15.5"


def test_total_range_is_inclusive_at_both_ends(node):
    record(node)
    assert ledger_total(node, "led", "2026-12-01T23:30:00Z", "2026-12-02T00:30:00Z") == 6
    assert ledger_total(node, "led", "2026-12-01T23:30:01Z", "2026-12-02T00:30:00Z") == 4
    assert ledger_total(node, "led", "2026-12-01T23:30:00Z", "2026-12-02T00:29:59Z") == 2
    assert ledger_total(node, "led", "2026-12-02T00:30:00Z", "2026-12-02T00:30:00Z") == 4


def test_total_with_epoch_inputs(node):
    record(node)
    assert ledger_total(node, "led", epoch("2026-12-01T23:30:00Z"),
                        epoch("2026-12-02T00:30:00Z")) == 6
    assert ledger_total(node, "led", epoch("2026-12-01T23:30:01Z"), None) == 12.5


def test_total_with_one_end_open(node):
    record(node)
    assert lit(ledger_total(node, "led", frm="2026-12-02T00:30:00Z")) == "12.5"
    assert ledger_total(node, "led", to="2026-12-01T23:30:00Z") == 3
    assert ledger_total(node, "led", frm="2026-12-05T00:00:00Z") == 0
    assert ledger_total(node, "led", to="2026-12-01T09:59:59Z") == 0


def test_total_with_an_offset(node):
    record(node)
    # 01:30+01:00 is 00:30Z; 13:00+01:00 is 12:00Z
    assert ledger_total(node, "led", "2026-12-02T01:30:00+01:00", "2026-12-03T13:00:00+01:00") == 12.5


def test_total_counts_debits_across_window_renewals(node):
    record(node)
    doc = get_status(node, "led")
    assert lit(find_quota(doc, "DAY")["used"]) == "8.5"
    assert lit(find_quota(doc, "MONTH")["used"]) == "15.5"


# ---------------------------------------------------------------- daily usage

def test_daily_in_utc(node):
    record(node)
    r = usage(node, "led", granularity="day", time_zone="UTC")
    assert lit(r["total"]) == "15.5"
    assert days(r) == [
        ("2026-12-01", epoch("2026-12-01T00:00:00Z"), 3),
        ("2026-12-02", epoch("2026-12-02T00:00:00Z"), 4),
        ("2026-12-03", epoch("2026-12-03T00:00:00Z"), 8.5),
    ]
    assert lit(r["days"][2]["credits"]) == "8.5"


def test_daily_defaults_to_utc(node):
    record(node)
    r = usage(node, "led", granularity="day")
    assert [d[0] for d in days(r)] == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert [d[2] for d in days(r)] == [3, 4, 8.5]


def test_daily_in_berlin(node):
    record(node)
    r = usage(node, "led", granularity="day", time_zone="Europe/Berlin")
    # 23:30Z on Dec 1 is 00:30 on Dec 2 in Berlin
    assert days(r) == [
        ("2026-12-01", epoch("2026-11-30T23:00:00Z"), 1),
        ("2026-12-02", epoch("2026-12-01T23:00:00Z"), 6),
        ("2026-12-03", epoch("2026-12-02T23:00:00Z"), 8.5),
    ]


def test_daily_in_new_york_skips_days_without_usage(node):
    record(node)
    r = usage(node, "led", granularity="day", time_zone="America/New_York")
    # 23:30Z and 00:30Z are 18:30 and 19:30 on Dec 1 in New York; nothing on Dec 2
    assert days(r) == [
        ("2026-12-01", epoch("2026-12-01T05:00:00Z"), 7),
        ("2026-12-03", epoch("2026-12-03T05:00:00Z"), 8.5),
    ]


def test_daily_with_a_range(node):
    record(node)
    r = usage(node, "led", "2026-12-01T23:30:00Z", "2026-12-02T00:30:00Z", granularity="day")
    assert r["total"] == 6
    assert days(r) == [
        ("2026-12-01", epoch("2026-12-01T00:00:00Z"), 2),
        ("2026-12-02", epoch("2026-12-02T00:00:00Z"), 4),
    ]


def test_daily_on_a_23_hour_day(node):
    record(node, debits=[("2027-03-28T21:30:00Z", 1), ("2027-03-28T22:30:00Z", 2)],
           now="2027-03-29T12:00:00Z")
    r = usage(node, "led", granularity="day", time_zone="Europe/Berlin")
    assert days(r) == [
        ("2027-03-28", epoch("2027-03-27T23:00:00Z"), 1),
        ("2027-03-29", epoch("2027-03-28T22:00:00Z"), 2),
    ]


# ---------------------------------------------------------------- deletes

def test_delete_range_recomputes_windows(node):
    record(node)
    r = delete_usage(node, "led", "2026-12-03T00:00:00Z", "2026-12-03T12:00:00Z")
    assert r["client_id"] == "led"
    assert find_quota(r, "DAY")["used"] == 0
    assert find_quota(r, "DAY")["remaining"] == 100
    assert find_quota(r, "MONTH")["used"] == 7
    assert find_quota(r, "MONTH")["remaining"] == 993
    assert r["lowest"]["remaining"] == 100
    assert get_status(node, "led").json == r.json
    assert ledger_total(node, "led") == 7

    # epoch inputs, one instant: only the 00:30Z debit of Dec 2
    r = delete_usage(node, "led", epoch("2026-12-02T00:30:00Z"), epoch("2026-12-02T00:30:00Z"))
    assert find_quota(r, "MONTH")["used"] == 3
    assert ledger_total(node, "led") == 3


def test_delete_with_one_end_open(node):
    record(node)
    r = delete_usage(node, "led", to="2026-12-01T23:30:00Z")
    assert lit(find_quota(r, "MONTH")["used"]) == "12.5"
    r = delete_usage(node, "led", frm="2026-12-03T12:00:00Z")
    assert find_quota(r, "MONTH")["used"] == 4
    assert find_quota(r, "DAY")["used"] == 0
    assert ledger_total(node, "led") == 4


def test_delete_everything_frees_the_windows(node):
    record(node)
    put_quotas(node, "led", [quota("DAY", 10), quota("MONTH", 20)])
    debit(node, "led", 2, expect=429)                 # DAY: 8.5 used, 1.5 left
    r = delete_usage(node, "led")
    assert find_quota(r, "DAY")["used"] == 0
    assert find_quota(r, "MONTH")["used"] == 0
    assert ledger_total(node, "led") == 0
    debit(node, "led", 10, expect=200)
    assert ledger_total(node, "led") == 10


def test_unknown_client_has_no_ledger(node):
    set_clock(node, AFTER)
    assert_problem(usage(node, "ghost", expect=None), 404)
    assert_problem(usage(node, "ghost", granularity="day", expect=None), 404)
    assert_problem(call(node, "DELETE", client_path("ghost") + "/usage"), 404)
    get_status(node, "ghost", expect=404)
