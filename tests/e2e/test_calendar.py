"""Windows and renewal, walked through with the testing clock (SPEC §2).

Expected instants are written out by hand in UTC. Berlin is UTC+1 (CET) in
winter and UTC+2 (CEST) in summer, switching on 2027-03-28 at 02:00 local
and back on 2027-10-31 at 03:00 local; New York is UTC-5 (EST) / UTC-4 (EDT),
switching on 2027-03-14 and 2027-11-07 at 02:00 local.
"""
import pytest

from conftest import (NOW, advance, debit, epoch, find_quota, get_status, ledger_total,
                      put_quotas, quota, set_clock, window)

H = 3600


def window_at(node, now, duration, start, tz="UTC", limit=100, client="cal"):
    """Sets the clock, (re)defines one quota, returns its current window (UTC epochs)."""
    set_clock(node, now)
    put_quotas(node, client, [quota(duration, limit, start=start, tz=tz)])
    return window(get_status(node, client), duration)


def span(a, b):
    return (epoch(a), epoch(b))


# ---------------------------------------------------------------- renewal

def test_day_renews_at_midnight_utc(node):
    set_clock(node, "2026-12-03T23:59:59Z")
    put_quotas(node, "cal", [quota("DAY", 5)])
    debit(node, "cal", 5, expect=200)
    r = debit(node, "cal", 1, expect=429)
    assert int(r.header("Retry-After")) == 1

    advance(node, 1)
    doc = get_status(node, "cal")
    assert window(doc, "DAY") == span("2026-12-04T00:00:00Z", "2026-12-05T00:00:00Z")
    assert find_quota(doc, "DAY")["used"] == 0
    assert find_quota(doc, "DAY")["remaining"] == 5
    assert doc["lowest"]["remaining"] == 5
    debit(node, "cal", 5, expect=200)
    assert ledger_total(node, "cal") == 10


def test_window_includes_its_start_and_excludes_its_end(node):
    set_clock(node, "2026-12-03T00:00:00Z")
    put_quotas(node, "cal", [quota("DAY", 100)])
    debit(node, "cal", 3, expect=200)
    assert window(get_status(node, "cal"), "DAY") == span("2026-12-03T00:00:00Z",
                                                          "2026-12-04T00:00:00Z")
    set_clock(node, "2026-12-03T23:59:59Z")
    debit(node, "cal", 4, expect=200)
    assert find_quota(get_status(node, "cal"), "DAY")["used"] == 7
    set_clock(node, "2026-12-04T00:00:00Z")
    assert find_quota(get_status(node, "cal"), "DAY")["used"] == 0


def test_renewal_of_a_month_with_the_clock_moved_backwards_and_forwards(node):
    set_clock(node, "2026-11-30T23:00:00Z")
    put_quotas(node, "cal", [quota("MONTH", 10), quota("DAY", 10)])
    debit(node, "cal", 6, expect=200)
    set_clock(node, "2026-12-01T00:00:00Z")
    doc = get_status(node, "cal")
    assert find_quota(doc, "MONTH")["used"] == 0
    assert find_quota(doc, "DAY")["used"] == 0
    debit(node, "cal", 10, expect=200)
    # back in November the earlier debit is in its window again
    set_clock(node, "2026-11-30T23:30:00Z")
    assert find_quota(get_status(node, "cal"), "MONTH")["used"] == 6
    assert ledger_total(node, "cal") == 16


def test_fixed_lengths_from_the_anchor_instant(node):
    set_clock(node, NOW)
    r = put_quotas(node, "cal", [quota("SECOND", 2, start="2022-01-01T00:00:00Z"),
                                 quota("MINUTE", 10, start="2022-01-01T00:00:30Z"),
                                 quota("HOUR", 100, start="2022-01-01T00:20:00Z")])
    assert window(r, "SECOND") == span("2026-12-03T10:00:00Z", "2026-12-03T10:00:01Z")
    assert window(r, "MINUTE") == span("2026-12-03T09:59:30Z", "2026-12-03T10:00:30Z")
    assert window(r, "HOUR") == span("2026-12-03T09:20:00Z", "2026-12-03T10:20:00Z")

    debit(node, "cal", 2, expect=200)
    r = debit(node, "cal", 1, expect=429)
    assert int(r.header("Retry-After")) == 1
    advance(node, 1)
    debit(node, "cal", 2, expect=200)
    assert find_quota(get_status(node, "cal"), "MINUTE")["used"] == 4


def test_hours_are_fixed_lengths_across_dst(node):
    # HOUR windows are fixed lengths from the anchor instant, whatever local clocks do
    w = window_at(node, "2027-03-28T01:45:00Z", "HOUR", "2027-01-01T00:30:00", tz="Europe/Berlin")
    # the anchor is 00:30 CET = 2026-12-31T23:30Z; hours run at :30 UTC
    assert w == span("2027-03-28T01:30:00Z", "2027-03-28T02:30:00Z")


# ---------------------------------------------------------------- months and years

@pytest.mark.parametrize("now,start,end", [
    ("2027-02-10T00:00:00Z", "2027-01-31T00:00:00Z", "2027-02-28T00:00:00Z"),
    ("2027-02-28T00:00:00Z", "2027-02-28T00:00:00Z", "2027-03-31T00:00:00Z"),
    # the seed's bug: before the anchor day, the current window is still last month's
    ("2027-03-05T12:00:00Z", "2027-02-28T00:00:00Z", "2027-03-31T00:00:00Z"),
    ("2027-03-31T12:00:00Z", "2027-03-31T00:00:00Z", "2027-04-30T00:00:00Z"),
    ("2027-04-30T00:00:00Z", "2027-04-30T00:00:00Z", "2027-05-31T00:00:00Z"),
    ("2027-12-31T23:59:59Z", "2027-12-31T00:00:00Z", "2028-01-31T00:00:00Z"),
    ("2028-02-10T00:00:00Z", "2028-01-31T00:00:00Z", "2028-02-29T00:00:00Z"),
    ("2028-02-29T00:00:00Z", "2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z"),
])
def test_month_from_the_31st(node, now, start, end):
    # anchored years before: windows are counted from the anchor, never drifting to the 28th
    assert window_at(node, now, "MONTH", "2022-01-31T00:00:00") == span(start, end)


def test_month_keeps_the_anchor_time_of_day_in_its_zone(node):
    # anchor Jan 31 09:00 Berlin: 08:00Z in winter, 07:00Z in summer
    w = window_at(node, "2027-05-15T00:00:00Z", "MONTH", "2022-01-31T09:00:00", tz="Europe/Berlin")
    assert w == span("2027-04-30T07:00:00Z", "2027-05-31T07:00:00Z")
    w = window_at(node, "2027-02-28T07:59:59Z", "MONTH", "2022-01-31T09:00:00", tz="Europe/Berlin")
    assert w == span("2027-01-31T08:00:00Z", "2027-02-28T08:00:00Z")


def test_month_usage_renews(node):
    set_clock(node, "2027-02-27T12:00:00Z")
    put_quotas(node, "cal", [quota("MONTH", 10, start="2022-01-31T00:00:00")])
    debit(node, "cal", 10, expect=200)
    r = debit(node, "cal", expect=429)
    assert int(r.header("Retry-After")) == 12 * H
    advance(node, 12 * H)
    doc = get_status(node, "cal")
    assert window(doc, "MONTH") == span("2027-02-28T00:00:00Z", "2027-03-31T00:00:00Z")
    assert find_quota(doc, "MONTH")["used"] == 0
    debit(node, "cal", 10, expect=200)


@pytest.mark.parametrize("now,start,end", [
    ("2026-06-01T00:00:00Z", "2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z"),
    ("2028-02-28T12:00:00Z", "2027-02-28T00:00:00Z", "2028-02-29T00:00:00Z"),
    ("2028-03-01T00:00:00Z", "2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z"),
])
def test_year_from_feb_29(node, now, start, end):
    assert window_at(node, now, "YEAR", "2024-02-29T00:00:00") == span(start, end)


# ---------------------------------------------------------------- days and weeks across DST

@pytest.mark.parametrize("tz,now,start,end,hours", [
    ("Europe/Berlin", "2027-03-28T12:00:00Z", "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z", 23),
    ("Europe/Berlin", "2027-03-27T12:00:00Z", "2027-03-26T23:00:00Z", "2027-03-27T23:00:00Z", 24),
    ("Europe/Berlin", "2027-03-29T12:00:00Z", "2027-03-28T22:00:00Z", "2027-03-29T22:00:00Z", 24),
    ("Europe/Berlin", "2027-10-31T12:00:00Z", "2027-10-30T22:00:00Z", "2027-10-31T23:00:00Z", 25),
    ("America/New_York", "2027-03-14T12:00:00Z", "2027-03-14T05:00:00Z", "2027-03-15T04:00:00Z", 23),
    ("America/New_York", "2027-11-07T12:00:00Z", "2027-11-07T04:00:00Z", "2027-11-08T05:00:00Z", 25),
])
def test_day_across_dst(node, tz, now, start, end, hours):
    w = window_at(node, now, "DAY", "2027-01-01T00:00:00", tz=tz)
    assert w == span(start, end)
    assert w[1] - w[0] == hours * H


def test_day_renewal_across_spring_forward(node):
    set_clock(node, "2027-03-28T21:59:59Z")         # 23:59:59 CEST on the short day
    put_quotas(node, "cal", [quota("DAY", 5, start="2027-01-01T00:00:00", tz="Europe/Berlin")])
    debit(node, "cal", 5, expect=200)
    r = debit(node, "cal", expect=429)
    assert int(r.header("Retry-After")) == 1
    advance(node, 1)
    doc = get_status(node, "cal")
    assert window(doc, "DAY") == span("2027-03-28T22:00:00Z", "2027-03-29T22:00:00Z")
    assert find_quota(doc, "DAY")["used"] == 0


def test_week_across_spring_forward(node):
    # weeks from Monday midnight Berlin; the week holding 2027-03-28 lasts 167 hours
    w = window_at(node, "2027-03-25T12:00:00Z", "WEEK", "2027-03-22T00:00:00", tz="Europe/Berlin")
    assert w == span("2027-03-21T23:00:00Z", "2027-03-28T22:00:00Z")
    assert w[1] - w[0] == 167 * H


def test_week_from_a_saturday_anchor(node):
    w = window_at(node, NOW, "WEEK", "2022-01-01T00:00:00")
    assert w == span("2026-11-28T00:00:00Z", "2026-12-05T00:00:00Z")


@pytest.mark.parametrize("now,start,end", [
    # before the gap on 2027-03-28: the day began 02:30 CET on the 27th
    ("2027-03-28T00:30:00Z", "2027-03-27T01:30:00Z", "2027-03-28T01:00:00Z"),
    # 02:30 local does not exist on the 28th: the boundary is 03:00 CEST = 01:00Z
    ("2027-03-28T12:00:00Z", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"),
    # 02:30 local happens twice on 2027-10-31: the boundary is the first (CEST, 00:30Z)
    ("2027-10-30T12:00:00Z", "2027-10-30T00:30:00Z", "2027-10-31T00:30:00Z"),
    ("2027-10-31T00:45:00Z", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"),
])
def test_day_boundary_in_a_dst_gap_or_overlap(node, now, start, end):
    w = window_at(node, now, "DAY", "2027-01-01T02:30:00", tz="Europe/Berlin")
    assert w == span(start, end)


# ---------------------------------------------------------------- anchors

def test_start_date_in_the_future_counts_back(node):
    set_clock(node, NOW)
    r = put_quotas(node, "cal", [quota("DAY", 10, start="2027-01-01T06:00:00"),
                                 quota("MONTH", 100, start="2027-01-15T00:00:00"),
                                 quota("HOUR", 5, start="2030-01-01T00:30:00")])
    assert window(r, "DAY") == span("2026-12-03T06:00:00Z", "2026-12-04T06:00:00Z")
    assert window(r, "MONTH") == span("2026-11-15T00:00:00Z", "2026-12-15T00:00:00Z")
    assert window(r, "HOUR") == span("2026-12-03T09:30:00Z", "2026-12-03T10:30:00Z")
    debit(node, "cal", 5, expect=200)
    r = debit(node, "cal", expect=429)
    assert int(r.header("Retry-After")) == 30 * 60
    doc = get_status(node, "cal")
    assert find_quota(doc, "DAY")["used"] == 5
    assert find_quota(doc, "MONTH")["used"] == 5


@pytest.mark.parametrize("now,start_date,start,end", [
    # without an offset: midnight in Berlin
    ("2026-12-03T10:00:00Z", "2022-01-01T00:00:00", "2026-12-02T23:00:00Z", "2026-12-03T23:00:00Z"),
    ("2026-07-03T10:00:00Z", "2022-01-01T00:00:00", "2026-07-02T22:00:00Z", "2026-07-03T22:00:00Z"),
    # with an offset: the instant 2022-01-01T00:00Z is 01:00 in Berlin; days run at 01:00 local
    ("2026-12-03T10:00:00Z", "2022-01-01T00:00:00Z", "2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z"),
    ("2026-07-03T10:00:00Z", "2022-01-01T00:00:00Z", "2026-07-02T23:00:00Z", "2026-07-03T23:00:00Z"),
    # the instant 2021-12-31T19:00Z is 20:00 in Berlin
    ("2026-12-03T10:00:00Z", "2022-01-01T00:00:00+05:00", "2026-12-02T19:00:00Z", "2026-12-03T19:00:00Z"),
])
def test_start_date_with_and_without_offset(node, now, start_date, start, end):
    assert window_at(node, now, "DAY", start_date, tz="Europe/Berlin") == span(start, end)


def test_start_date_as_epoch_seconds(node):
    w = window_at(node, NOW, "DAY", epoch("2022-01-01T06:00:00Z"))
    assert w == span("2026-12-03T06:00:00Z", "2026-12-04T06:00:00Z")


def test_start_date_with_offset_in_utc(node):
    w = window_at(node, NOW, "DAY", "2022-01-01T00:00:00+05:00")
    # the anchor instant is 2021-12-31T19:00Z
    assert w == span("2026-12-02T19:00:00Z", "2026-12-03T19:00:00Z")


def test_node_default_time_zone(make_node):
    node = make_node(extra_args=["--time-zone=Europe/Berlin"])
    w = window_at(node, NOW, "DAY", "2022-01-01T00:00:00", tz=None)
    assert w == span("2026-12-02T23:00:00Z", "2026-12-03T23:00:00Z")
    # a definition naming its zone is not affected
    w = window_at(node, NOW, "DAY", "2022-01-01T00:00:00", tz="UTC")
    assert w == span("2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z")


def test_default_time_zone_is_utc(node):
    w = window_at(node, NOW, "DAY", "2022-01-01T00:00:00", tz=None)
    assert w == span("2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z")
