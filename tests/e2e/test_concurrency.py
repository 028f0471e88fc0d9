"""Debits for one client are serialized: with limit L, exactly L succeed (SPEC §4.5)."""
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from conftest import (NOW, Conn, bearer, client_path, find_quota, get_status, ledger_total,
                      lit, put_quotas, quota, set_clock)


def in_parallel(node, threads, work):
    """Runs work(conn, i) in `threads` threads, each with its own keep-alive connection,
    all released at once; returns the list of their results."""
    barrier = threading.Barrier(threads, timeout=60)

    def run(i):
        conn = Conn(node)
        try:
            barrier.wait()
            return work(conn, i)
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(threads)))


def flat(lists):
    return [x for sub in lists for x in sub]


def debits(client, n, credits=None):
    def work(conn, i):
        out = []
        for _ in range(n):
            r = conn.debit(client, credits)
            out.append((r.status, r.get("remaining")))
        return out
    return work


def test_exactly_the_limit_succeeds(node):
    limit, threads, each = 500, 32, 40
    set_clock(node, NOW)
    put_quotas(node, "hot", [quota("DAY", limit)])
    results = flat(in_parallel(node, threads, debits("hot", each)))

    assert Counter(s for s, _ in results) == {200: limit, 429: threads * each - limit}
    # serialized: every success saw its own remaining count, from 499 down to 0
    assert sorted(rem for s, rem in results if s == 200) == list(range(limit))
    assert find_quota(get_status(node, "hot"), "DAY")["used"] == limit
    assert ledger_total(node, "hot") == limit


def test_exactly_the_limit_succeeds_with_fractions(node):
    set_clock(node, NOW)
    put_quotas(node, "hot", [quota("DAY", 50)])
    results = flat(in_parallel(node, 32, debits("hot", 20, credits=0.1)))

    assert Counter(s for s, _ in results) == {200: 500, 429: 140}
    assert sorted(rem for s, rem in results if s == 200) == [Decimal(k) / 10 for k in range(500)]
    assert lit(find_quota(get_status(node, "hot"), "DAY")["used"]) == "50"
    assert lit(ledger_total(node, "hot")) == "50"


def test_every_front_door_shares_one_limit(node):
    limit = 300
    set_clock(node, NOW)
    put_quotas(node, "hot", [quota("DAY", limit)])
    gateway = bearer(node.gateway_token)

    def work(conn, i):
        statuses = []
        for _ in range(6):
            kind = i % 3
            if kind == 0:
                statuses += [conn.debit("hot").status for _ in range(5)]
            elif kind == 1:
                for _ in range(5):
                    r = conn.send("GET", "/v1/authorize",
                                  headers=dict(gateway, **{"X-Client-Id": "hot"}))
                    statuses.append(r.status)
            else:
                r = conn.send("POST", "/v1/usage:batch",
                              {"requests": [{"client_id": "hot", "credits": 1}] * 5}, gateway)
                assert r.status == 200, r
                statuses += [item["status"] for item in r["results"]]
        return statuses

    statuses = flat(in_parallel(node, 24, work))
    assert len(statuses) == 24 * 30
    assert Counter(statuses) == {200: limit, 429: 24 * 30 - limit}
    assert find_quota(get_status(node, "hot"), "DAY")["used"] == limit
    assert ledger_total(node, "hot") == limit


def test_clients_do_not_share_limits(node):
    set_clock(node, NOW)
    clients = [f"tenant-{k}" for k in range(8)]
    for c in clients:
        put_quotas(node, c, [quota("DAY", 50)])

    def work(conn, i):
        client = clients[i % 8]
        return [(client, conn.debit(client).status) for _ in range(25)]

    results = flat(in_parallel(node, 32, work))
    for c in clients:
        assert Counter(s for cc, s in results if cc == c) == {200: 50, 429: 50}, c
        assert ledger_total(node, c) == 50


def test_concurrent_repeats_of_one_key_debit_once(node):
    set_clock(node, NOW)
    put_quotas(node, "hot", [quota("DAY", 100)])

    def work(conn, i):
        r = conn.send("POST", client_path("hot") + "/usage",
                      {"credits": 7, "idempotency_key": "once"}, bearer(node.gateway_token))
        return r.status, r.get("remaining"), r.get("reset")

    results = in_parallel(node, 16, work)
    assert {status for status, _, _ in results} == {200}
    assert len({(rem, reset) for _, rem, reset in results}) == 1
    assert results[0][1] == 93
    assert ledger_total(node, "hot") == 7
