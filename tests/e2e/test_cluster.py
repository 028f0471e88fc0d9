"""The cluster from outside (SPEC §7): several real quotad nodes on loopback.

Every front door answers for every client; one client's limit holds across
all doors; joins, graceful leaves, crashes and an operator's removal keep the
accounting exact: for every client, the debits acknowledged with 200 equal
`used` and the ledger total, and no client goes over its limit.

Nodes are named n1, n2, ... in the order they start; n1 starts the cluster and
the others join through it. The coordinator is the lowest node id that is up.
Tests wait for states (a member list, a member's state), never for time; the
waits have generous deadlines as a safety limit only.
"""
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import (ADMIN_TOKEN, Cluster, Conn, _require_binary, assert_problem, batch, call,
                      cluster_view, clients_owned, debit, delete_client, delete_usage, find_quota,
                      get_status, ledger_total, member_states, owner_header, put_quotas, usage,
                      wait_for, wait_settled, wait_state, year_quota)


@pytest.fixture(scope="module")
def cluster3():
    """One settled three-node cluster for the tests that only add clients of their own."""
    _require_binary()
    procs = []

    def register(p):
        procs.append(p)
        p.start()

    try:
        c = Cluster(register)
        for k in (1, 2, 3):
            c.start_node(f"n{k}")
        c.wait_settled()
        yield c
    finally:
        for p in procs:
            p.cleanup()


def doors(cluster):
    return list(cluster.nodes.values())


def used_of(node, client):
    return find_quota(get_status(node, client), "YEAR")["used"]


# --------------------------------------------------------------------------
# every front door answers every client the same


def test_every_member_agrees_on_the_member_list_and_is_ready(cluster3):
    views = [cluster_view(n) for n in doors(cluster3)]
    assert [v["node_id"] for v in views] == ["n1", "n2", "n3"]
    assert len({v["epoch"] for v in views}) == 1
    expected = [{"node_id": n.node_id, "http": f"127.0.0.1:{n.http_port}",
                 "cluster": f"127.0.0.1:{n.cluster_port}", "state": "up"}
                for n in doors(cluster3)]
    for v in views:
        assert v["members"] == expected, v
    for n in doors(cluster3):
        r = call(n, "GET", "/readyz")
        assert r.status == 200, (n.node_id, r)


def test_every_front_door_answers_every_client_the_same(cluster3):
    nodes = doors(cluster3)
    clients = [f"same-{k}" for k in range(30)]
    owners = {}
    for k, c in enumerate(clients):
        r = put_quotas(nodes[k % 3], c, [year_quota(100)])
        owners[c] = owner_header(r)
    # The owners spread over the members.
    assert set(owners.values()) == {"n1", "n2", "n3"}, owners

    for k, c in enumerate(clients):
        # one debit through each door, all answered by the same owner
        for n in nodes:
            r = debit(n, c, expect=200)
            assert owner_header(r) == owners[c], (n.node_id, c, r)
        answers = [get_status(n, c) for n in nodes]
        for n, r in zip(nodes, answers):
            assert owner_header(r) == owners[c], (n.node_id, c, r)
            assert r.json == answers[0].json, (n.node_id, c)
        assert find_quota(answers[0], "YEAR")["used"] == 3
        assert find_quota(answers[0], "YEAR")["remaining"] == 97

    # An unknown client is unknown everywhere, and still has an owner.
    for n in nodes:
        r = get_status(n, "same-unknown", expect=404)
        assert owner_header(r) == owner_header(get_status(nodes[0], "same-unknown", expect=404))
        r = debit(n, "same-unknown", expect=403)
        assert_problem(r, 403)


# --------------------------------------------------------------------------
# one limit across all front doors


def in_parallel_over(nodes, threads, work):
    """Runs work(conn, i) in `threads` threads, thread i on a keep-alive connection
    to nodes[i % len(nodes)], all released at once; returns their results."""
    barrier = threading.Barrier(threads, timeout=60)

    def run(i):
        conn = Conn(nodes[i % len(nodes)])
        try:
            barrier.wait()
            return work(conn, i)
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(threads)))


def test_a_limit_holds_across_all_front_doors(cluster3):
    """24 threads, 8 per door, single debits, /v1/authorize and batches at three
    clients (one owned by each node): each client admits exactly its limit."""
    limit, threads, rounds = 300, 24, 6
    nodes = doors(cluster3)
    hot = [cs[0] for cs in clients_owned(nodes[0], "hot-", 1, ["n1", "n2", "n3"]).values()]
    for c in hot:
        put_quotas(nodes[0], c, [year_quota(limit)])

    def work(conn, i):
        seen = []  # (client, status, remaining)
        for _ in range(rounds):
            for c in hot:
                r = conn.debit(c)
                seen.append((c, r.status, r.get("remaining")))
                r = conn.send("GET", "/v1/authorize", headers={"X-Client-Id": c})
                rem = r.header("X-RateLimit-Remaining")
                seen.append((c, r.status, int(rem) if rem is not None else None))
                r = conn.send("POST", "/v1/usage:batch",
                              {"requests": [{"client_id": c, "credits": 1}] * 3})
                assert r.status == 200, r
                assert [item["client_id"] for item in r["results"]] == [c] * 3
                seen += [(c, item["status"], item.get("remaining")) for item in r["results"]]
        return seen

    seen = [x for sub in in_parallel_over(nodes, threads, work) for x in sub]
    per_client = threads * rounds * 5
    assert len(seen) == per_client * len(hot)
    for c in hot:
        mine = [(s, rem) for cc, s, rem in seen if cc == c]
        assert Counter(s for s, _ in mine) == {200: limit, 429: per_client - limit}, c
        # serialized at the owner: every admitted debit saw its own remaining count
        assert sorted(rem for s, rem in mine if s == 200) == list(range(limit)), c
        for n in nodes:
            assert used_of(n, c) == limit
            assert ledger_total(n, c) == limit


def test_batches_are_split_per_owner_and_answered_in_order(cluster3):
    nodes = doors(cluster3)
    owned = clients_owned(nodes[0], "split-", 1, ["n1", "n2", "n3"])
    a, b, c = owned["n1"][0], owned["n2"][0], owned["n3"][0]
    for x in (a, b, c):
        put_quotas(nodes[0], x, [year_quota(4)])

    # Through n2: six rounds of a, b, c and one unknown client.
    items = [a, b, c, "split-unknown"] * 6
    r = batch(nodes[1], [{"client_id": x, "credits": 1} for x in items])
    results = r["results"]
    assert [item["client_id"] for item in results] == items
    for x in (a, b, c):
        mine = [item for item in results if item["client_id"] == x]
        assert [item["status"] for item in mine] == [200, 200, 200, 200, 429, 429], x
        assert [item["remaining"] for item in mine] == [3, 2, 1, 0, 0, 0], x
    assert {item["status"] for item in results if item["client_id"] == "split-unknown"} == {403}

    # The other doors see the same clients, now at their limit.
    for n in (nodes[0], nodes[2]):
        r = batch(n, [{"client_id": x, "credits": 1} for x in (c, b, a)])
        assert [(item["client_id"], item["status"]) for item in r["results"]] == \
            [(c, 429), (b, 429), (a, 429)]
    for x in (a, b, c):
        assert used_of(nodes[2], x) == 4
        assert ledger_total(nodes[0], x) == 4


# --------------------------------------------------------------------------
# ledger, deletes and idempotency through any door


def test_ledger_queries_and_deletes_work_from_any_door(cluster3):
    nodes = doors(cluster3)
    client = clients_owned(nodes[0], "ledger-", 1, ["n3"])["n3"][0]
    put_quotas(nodes[0], client, [year_quota(100)])
    for k in range(6):
        debit(nodes[k % 3], client, credits=2, expect=200)

    totals = [usage(n, client) for n in nodes]
    for r in totals:
        assert owner_header(r) == "n3"
        assert r["total"] == 12
    daily = [usage(n, client, granularity="day", time_zone="UTC").json for n in nodes]
    assert daily[0] == daily[1] == daily[2]
    assert sum(d["credits"] for d in daily[0]["days"]) == 12

    # Deleting the usage through n1 recomputes the window at the owner.
    r = delete_usage(nodes[0], client)
    assert owner_header(r) == "n3"
    assert find_quota(r, "YEAR")["used"] == 0
    for n in nodes:
        assert ledger_total(n, client) == 0
        assert used_of(n, client) == 0

    # Forgetting the client through n2 forgets it everywhere.
    debit(nodes[1], client, expect=200)
    delete_client(nodes[1], client)
    for n in nodes:
        get_status(n, client, expect=404)
        debit(n, client, expect=403)


def test_an_idempotency_key_is_honoured_through_every_door(cluster3):
    nodes = doors(cluster3)
    owned = clients_owned(nodes[0], "idem-", 1, ["n1", "n2", "n3"])
    for owner, (client,) in owned.items():
        put_quotas(nodes[0], client, [year_quota(100)])
        first = debit(nodes[0], client, credits=5, key="order-1", expect=200)
        for n in nodes:
            again = debit(n, client, credits=5, key="order-1", expect=200)
            assert again.json == first.json, (owner, n.node_id)
            assert owner_header(again) == owner
        # the same key in a batch through another door: the same answer, nothing more
        r = batch(nodes[2], [{"client_id": client, "credits": 5, "idempotency_key": "order-1"}])
        assert r["results"][0]["status"] == 200
        assert r["results"][0]["remaining"] == 95
        for n in nodes:
            assert used_of(n, client) == 5
            assert ledger_total(n, client) == 5


# --------------------------------------------------------------------------
# load while the ring changes


class Load:
    """Threads debiting `clients` through the front doors in `doors` until stopped:
    single debits, and every fifth request a batch of three. Counts, per client,
    what the doors answered. A door taken out of the rotation gets no new requests."""

    def __init__(self, clients, doors, threads=6):
        self.clients = list(clients)
        self.doors = list(doors)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.ok = Counter()
        self.statuses = Counter()  # every answer's status, single debits and batch items
        self.unavailable = Counter()  # 503s per client
        self.unavailable_details = []  # (client, door, owner, detail) of every 503
        self.errors = []  # anything else (a broken connection: outcome unknown)
        self.requests = 0
        self.in_flight = Counter()  # door node id -> requests in flight
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True)
                        for t in range(threads)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(120)
        assert not any(t.is_alive() for t in self.threads), "load threads did not stop"

    def _record(self, client, status, door, owner=None, detail=None):
        self.statuses[status] += 1
        if status == 200:
            self.ok[client] += 1
        elif status == 503:
            self.unavailable[client] += 1
            self.unavailable_details.append((client, door.node_id, owner, detail))

    def _run(self, t):
        conns = {}
        k = t
        try:
            while not self.stopping.is_set() and len(self.errors) == 0:
                with self.lock:
                    door = self.doors[k % len(self.doors)]
                    self.in_flight[door.node_id] += 1
                try:
                    conn = conns.get(door.node_id)
                    if conn is None:
                        conn = conns[door.node_id] = Conn(door, timeout=30.0)
                    picked = [self.clients[(k * 7 + t + j) % len(self.clients)] for j in range(3)]
                    try:
                        if k % 5 == 4:
                            r = conn.send("POST", "/v1/usage:batch",
                                          {"requests": [{"client_id": c, "credits": 1} for c in picked]})
                            results = r.get("results") if r.status == 200 else None
                            with self.lock:
                                if results is None or [x["client_id"] for x in results] != picked:
                                    self.errors.append(f"batch via {door.node_id}: {r!r}")
                                else:
                                    for x in results:
                                        self._record(x["client_id"], x["status"], door,
                                                     detail=x.get("detail"))
                        else:
                            r = conn.debit(picked[0])
                            with self.lock:
                                self._record(picked[0], r.status, door,
                                             r.header("X-Quotad-Owner"), r.get("detail"))
                                if r.status == 503:
                                    assert_problem(r, 503)
                                    assert r.header("Retry-After"), r
                    except Exception as e:  # a broken connection, a malformed answer
                        with self.lock:
                            self.errors.append(f"via {door.node_id}: {e!r}")
                finally:
                    with self.lock:
                        self.in_flight[door.node_id] -= 1
                        self.requests += 1
                k += 1
        finally:
            for conn in conns.values():
                conn.close()

    def set_doors(self, doors):
        with self.lock:
            self.doors = list(doors)

    def drain(self, node):
        """Takes node's door out of the rotation; returns once none of its requests is open."""
        with self.lock:
            self.doors = [d for d in self.doors if d is not node]
        wait_for(lambda: self.in_flight[node.node_id] == 0, f"requests to {node.node_id} to end")

    def summary(self):
        reasons = Counter(detail for _, _, _, detail in self.unavailable_details)
        return (f"{self.requests} requests, answers {dict(self.statuses)}, "
                f"503s by detail {dict(reasons)}, 503s by client {dict(self.unavailable)}")

    def progress(self, n):
        """Waits until n more requests have been answered."""
        with self.lock:
            target = self.requests + n
        wait_for(lambda: self.requests >= target or self.errors, f"{n} more requests", 120)
        assert not self.errors, self.errors[:5]


def prepare_clients(node, count, prefix):
    """count clients with YEAR limits 15, 25, ... 65 (the load takes many to their limit)."""
    limits = {f"{prefix}{k}": 15 + 10 * (k % 6) for k in range(count)}
    for c, limit in limits.items():
        put_quotas(node, c, [year_quota(limit)])
    return limits


def keyed_debits(nodes, clients):
    """One debit with an idempotency key per client (through rotating doors): the answers."""
    return {c: debit(nodes[k % len(nodes)], c, key=f"before-{c}", expect=200).json
            for k, c in enumerate(clients)}


def check_accounting(nodes, limits, load, keyed, moved_away=()):
    """For every client, through every door: the 200s seen == used == ledger total,
    used <= limit; repeating the keyed debit returns its answer and debits nothing."""
    assert not load.errors, load.errors[:5]
    assert set(load.statuses) <= {200, 429, 503}, load.statuses
    for k, (c, limit) in enumerate(limits.items()):
        acknowledged = load.ok[c] + 1  # the keyed debit
        for n in nodes:
            doc = get_status(n, c)
            assert owner_header(doc) not in moved_away, (c, doc)
            q = find_quota(doc, "YEAR")
            assert q["used"] == acknowledged, (c, n.node_id, load.ok[c], load.unavailable_details)
            assert q["used"] <= limit, (c, q)
            assert ledger_total(n, c) == acknowledged, (c, n.node_id)
        again = debit(nodes[k % len(nodes)], c, key=f"before-{c}", expect=200)
        assert again.json == keyed[c], c
        assert used_of(nodes[0], c) == acknowledged, c


def metric(node, name):
    r = call(node, "GET", "/metrics")
    assert r.status == 200
    for line in r.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name} on {node.node_id}")


def test_a_node_joins_and_another_leaves_while_load_runs(make_cluster):
    c = make_cluster(3)
    n1, n2, n3 = c["n1"], c["n2"], c["n3"]
    limits = prepare_clients(n1, 20, "move-")
    keyed = keyed_debits([n1, n2, n3], limits)

    with Load(limits, [n1, n2, n3]) as load:
        load.progress(150)

        # n4 joins through n1 while the load runs.
        n4 = c.start_node("n4")
        views = c.wait_settled(["n1", "n2", "n3", "n4"])
        load.set_doors([n1, n2, n3, n4])
        load.progress(150)

        # n2 (not the coordinator) leaves gracefully while the load runs
        # through the other doors.
        assert views[0]["members"][0]["node_id"] == "n1"
        load.drain(n2)
        assert n2.stop() == 0, n2.log()
        c.wait_settled(["n1", "n3", "n4"])
        load.progress(150)
    print(f"\njoin, then leave: {load.summary()}")

    check_accounting([n1, n3, n4], limits, load, keyed, moved_away=("n2",))
    # n4 took over some clients: it adopted them, and answers for them now.
    assert metric(n4, "quotad_clients_moved_in_total") > 0
    owners = {owner_header(get_status(n1, cl)) for cl in limits}
    assert "n4" in owners, owners


def test_the_coordinator_leaves_while_load_runs(make_cluster):
    c = make_cluster(3)
    n1, n2, n3 = c["n1"], c["n2"], c["n3"]
    limits = prepare_clients(n1, 20, "coord-")
    keyed = keyed_debits([n1, n2, n3], limits)

    with Load(limits, [n1, n2, n3]) as load:
        load.progress(150)
        load.drain(n1)
        assert n1.stop() == 0, n1.log()
        views = c.wait_settled(["n2", "n3"])
        load.progress(150)
    print(f"\ncoordinator leaves: {load.summary()}")

    check_accounting([n2, n3], limits, load, keyed, moved_away=("n1",))
    assert views[0]["epoch"] > 0

    # The new coordinator (n2) runs the next change: a node joins through n3.
    c.start_node("n5", seeds=[n3])
    c.wait_settled(["n2", "n3", "n5"])
    for cl in limits:
        assert used_of(c["n5"], cl) == load.ok[cl] + 1


# --------------------------------------------------------------------------
# a crash


def test_a_crashed_node_answers_503_until_it_returns_with_its_debits(make_cluster):
    c = make_cluster(3)
    n1, n2, n3 = c["n1"], c["n2"], c["n3"]
    owned = clients_owned(n1, "crash-", 3, ["n1", "n2", "n3"])
    victims, others = owned["n3"], owned["n1"] + owned["n2"]
    acked = Counter()
    for k, cl in enumerate(victims + others):
        put_quotas(n1, cl, [year_quota(50)])
        for j in range(k % 4 + 2):
            debit([n1, n2, n3][j % 3], cl, expect=200)
            acked[cl] += 1

    n3.kill9()
    wait_state([n1, n2], "n3", "down")
    for n in (n1, n2):
        assert member_states(cluster_view(n)) == {"n1": "up", "n2": "up", "n3": "down"}
        for cl in victims:
            for r in (debit(n, cl), debit(n, cl, key="during-outage"),
                      get_status(n, cl, expect=None), usage(n, cl, expect=None),
                      call(n, "GET", "/v1/authorize", headers={"X-Client-Id": cl}),
                      put_quotas(n, cl, [year_quota(1000)], expect=None)):
                assert r.status == 503, (n.node_id, cl, r)
                assert r.header("Retry-After") is not None and int(r.header("Retry-After")) > 0, r
                if r.raw:
                    assert_problem(r, 503)
                assert owner_header(r) == "n3", r
        # a batch: the victim's items 503, the others' applied
        items = [victims[0], others[0], victims[1], others[-1]]
        r = batch(n, [{"client_id": x} for x in items])
        assert [(x["client_id"], x["status"]) for x in r["results"]] == \
            [(victims[0], 503), (others[0], 200), (victims[1], 503), (others[-1], 200)]
        acked[others[0]] += 1
        acked[others[-1]] += 1
        # the other clients are served as before
        for cl in others:
            r = debit(n, cl, expect=200)
            assert owner_header(r) in ("n1", "n2")
            acked[cl] += 1

    # n3 restarts on its ports and data, without --seeds: it rejoins through the
    # members it remembers.
    n3.extra_args = ["--node-id=n3"]
    n3.start()
    c.wait_settled(["n1", "n2", "n3"])
    assert call(n3, "GET", "/readyz").status == 200
    for cl in victims + others:
        for n in (n1, n2, n3):
            assert used_of(n, cl) == acked[cl], (cl, n.node_id)
            assert ledger_total(n, cl) == acked[cl], (cl, n.node_id)
    for cl in victims:
        r = get_status(n1, cl)
        assert owner_header(r) == "n3"
        assert find_quota(r, "YEAR")["credit_limit"] == 50  # the refused PUT changed nothing
        # the key tried during the outage was never recorded: judged afresh now
        r = debit(n2, cl, key="during-outage", expect=200)
        assert r["remaining"] == 50 - acked[cl] - 1
        assert used_of(n1, cl) == acked[cl] + 1


# --------------------------------------------------------------------------
# an operator removes a member


def test_an_operator_removes_a_down_member_and_its_clients_start_afresh(make_cluster):
    c = make_cluster(3, admin_token=ADMIN_TOKEN)
    n1, n2, n3 = c["n1"], c["n2"], c["n3"]
    victims = clients_owned(n1, "gone-", 3, ["n3"])["n3"]
    for cl in victims:
        put_quotas(n1, cl, [year_quota(50)])
        debit(n2, cl, expect=200)

    n3.kill9()
    wait_state([n1, n2], "n3", "down")

    # No join completes while a member is down: n4 is answered with the member
    # list as it is, without itself, and is not ready.
    n4 = c.start_node("n4")
    epoch = cluster_view(n1)["epoch"]
    view4 = wait_for(lambda: (v := cluster_view(n4))["epoch"] == epoch and v,
                     "n4 to learn the member list")
    assert member_states(view4) == {"n1": "up", "n2": "up", "n3": "down"}
    assert call(n4, "GET", "/readyz").status == 503

    path = "/v1/cluster/members/n3"
    assert call(n2, "DELETE", path).status == 401
    assert call(n2, "DELETE", path, token="wrong-token").status == 403
    assert member_states(cluster_view(n1))["n3"] == "down"
    r = call(n2, "DELETE", path, token=ADMIN_TOKEN)
    assert r.status == 204, r

    # n3 is gone for good; n4's join goes through now.
    c.wait_settled(["n1", "n2", "n4"])
    assert call(n4, "GET", "/readyz").status == 200
    assert call(n1, "DELETE", path, token=ADMIN_TOKEN).status == 404

    # n3's clients are served by the others, from zero: their state was on n3.
    for cl in victims:
        for n in (n1, n2, n4):
            r = get_status(n, cl, expect=404)
            assert owner_header(r) in ("n1", "n2", "n4"), r
            debit(n, cl, expect=403)
        put_quotas(n4, cl, [year_quota(50)])
        r = debit(n1, cl, expect=200)
        assert r["remaining"] == 49
        for n in (n1, n2, n4):
            assert used_of(n, cl) == 1


def test_removing_a_member_that_is_up_never_leaves_two_owners(make_cluster):
    c = make_cluster(3)
    n1, n2, n3 = c["n1"], c["n2"], c["n3"]
    client = clients_owned(n1, "split-brain-", 1, ["n3"])["n3"][0]
    put_quotas(n1, client, [year_quota(100)])
    debit(n1, client, expect=200)

    r = call(n1, "DELETE", "/v1/cluster/members/n3")
    assert r.status == 409, r  # refused: n3 is up (SIGTERM makes it leave)
    assert "down" in r["detail"], r

    def one_owner():
        """Every door that answers for the client (known or not) names the same owner."""
        owners = set()
        for n in (n1, n2, n3):
            s = get_status(n, client, expect=None)
            if s.status in (200, 404):
                owners.add(owner_header(s))
        return len(owners) == 1 and owners

    wait_for(one_owner, f"the doors to agree on one owner of {client}", timeout=10)


# --------------------------------------------------------------------------
# stopping and restarting the whole cluster


def debit_some(nodes, clients):
    acked = Counter()
    for k, cl in enumerate(clients):
        put_quotas(nodes[0], cl, [year_quota(50)])
        for j in range(k % 3 + 1):
            debit(nodes[(k + j) % len(nodes)], cl, expect=200)
            acked[cl] += 1
    return acked


def test_the_cluster_restarts_after_its_members_stop_one_by_one(make_cluster):
    """As tools/local-cluster.sh does: stop n3, n2, then n1 (each leaves but the
    last, which keeps every client); start them again in order, n1 without seeds."""
    c = make_cluster(3)
    nodes = [c["n1"], c["n2"], c["n3"]]
    clients = [f"restart-{k}" for k in range(12)]
    acked = debit_some(nodes, clients)

    for n in reversed(nodes):
        assert n.stop() == 0, n.log()
    for n in nodes:
        n.start()
    c.wait_settled(["n1", "n2", "n3"])
    owners = set()
    for cl in clients:
        for n in nodes:
            r = get_status(n, cl)
            assert find_quota(r, "YEAR")["used"] == acked[cl], (cl, n.node_id)
            owners.add(owner_header(r))
        assert ledger_total(nodes[2], cl) == acked[cl]
    assert owners == {"n1", "n2", "n3"}  # the clients went back to their owners


def test_every_member_stopped_at_once_exits_0(make_cluster):
    c = make_cluster(3)
    nodes = [c["n1"], c["n2"], c["n3"]]
    debit_some(nodes, [f"all-at-once-{k}" for k in range(6)])
    for n in nodes:
        n.proc.terminate()  # SIGTERM, all before any has exited
    assert [n.stop() for n in nodes] == [0, 0, 0]


def test_the_cluster_restarts_after_every_member_crashed(make_cluster):
    c = make_cluster(3)
    nodes = [c["n1"], c["n2"], c["n3"]]
    clients = [f"all-crashed-{k}" for k in range(6)]
    acked = debit_some(nodes, clients)
    for n in nodes:
        n.kill9()
    for n in nodes:
        n.start()
    c.wait_settled(["n1", "n2", "n3"], timeout=15)
    for cl in clients:
        assert used_of(nodes[1], cl) == acked[cl]


def test_an_admin_call_makes_a_node_leave_with_its_clients(make_cluster):
    c = make_cluster(3)
    n1, n2, n3 = c["n1"], c["n2"], c["n3"]
    owned = clients_owned(n1, "admin-leave-", 3, ["n2"])["n2"]
    for k, cl in enumerate(owned):
        put_quotas(n1, cl, [year_quota(50)])
        for _ in range(k + 1):
            debit(n3, cl, expect=200)

    r = call(n2, "POST", "/v1/cluster:leave")
    assert r.status == 202, r
    assert r["leaving"] is True and r["node_id"] == "n2", r
    assert n2.proc.wait(timeout=60) == 0  # it hands its clients on, then exits 0
    n2.stop()
    wait_settled([n1, n3], ["n1", "n3"])
    for k, cl in enumerate(owned):
        s = get_status(n1, cl)
        assert owner_header(s) in ("n1", "n3"), s
        assert used_of(n3, cl) == k + 1
