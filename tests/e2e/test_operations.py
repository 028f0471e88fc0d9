"""Running a node: health, metrics, cluster view, options, signals (SPEC §6, §7, §8)."""
import os
import re
import signal
from collections import defaultdict

import pytest

from conftest import (ADMIN_TOKEN, GATEWAY_TOKEN, NOW, assert_problem, call, debit, free_port,
                      get_status, put_quotas, quota, run_quotad, set_clock)


def test_health_and_readiness(node):
    assert call(node, "GET", "/healthz").status == 200
    assert call(node, "GET", "/readyz").status == 200


# ---------------------------------------------------------------- metrics

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+\d+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(node):
    """{metric name: {frozenset of (label, value): sample value}}"""
    r = call(node, "GET", "/metrics")
    assert r.status == 200, r
    assert r.header("content-type", "").startswith("text/plain"), r
    samples = defaultdict(dict)
    for line in r.text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        samples[m.group(1)][labels] = float(m.group(3))
    return samples, r.text


def deltas(before, after, name):
    """Per label set: how much a counter grew between two scrapes (only those that grew)."""
    b, a = before.get(name, {}), after.get(name, {})
    return {labels: value - b.get(labels, 0.0) for labels, value in a.items()
            if value - b.get(labels, 0.0) != 0}


def test_metrics_count_requests_and_debits(node):
    set_clock(node, NOW)
    put_quotas(node, "acme", [quota("DAY", 5)])
    before, _ = scrape(node)
    for _ in range(5):
        debit(node, "acme", expect=200)
    for _ in range(2):
        debit(node, "acme", expect=429)
    after, text = scrape(node)

    assert "# TYPE quotad_http_requests_total counter" in text
    assert "# TYPE quotad_debits_total counter" in text

    # debit outcomes: one label set grew by 5 (allowed), another by 2 (refused)
    assert sorted(deltas(before, after, "quotad_debits_total").values()) == [2, 5]

    http = deltas(before, after, "quotad_http_requests_total")

    def grown(status):
        return sum(v for labels, v in http.items() if status in {val for _, val in labels})

    assert grown("429") == 2
    # the five debits, and perhaps the second scrape itself
    assert grown("200") in (5, 6)


# ---------------------------------------------------------------- cluster view

def cluster(node):
    r = call(node, "GET", "/v1/cluster")
    assert r.status == 200, r
    return r.json


def test_cluster_of_one(node):
    view = cluster(node)
    assert isinstance(view["node_id"], str) and view["node_id"]
    assert isinstance(view["epoch"], int) and not isinstance(view["epoch"], bool)
    assert len(view["members"]) == 1
    member = view["members"][0]
    assert member["node_id"] == view["node_id"]
    assert member["http"].endswith(f"127.0.0.1:{node.http_port}"), member
    assert member["cluster"].endswith(f"127.0.0.1:{node.cluster_port}"), member
    assert member["state"] == "up"


def test_answers_about_a_client_name_their_owner(node):
    owner = cluster(node)["node_id"]
    set_clock(node, NOW)
    assert put_quotas(node, "acme", [quota("DAY", 1)]).header("X-Quotad-Owner") == owner
    assert get_status(node, "acme").header("X-Quotad-Owner") == owner
    assert debit(node, "acme", expect=200).header("X-Quotad-Owner") == owner
    assert debit(node, "acme", expect=429).header("X-Quotad-Owner") == owner


def test_node_id_is_kept_in_the_data_directory(node):
    first = cluster(node)["node_id"]
    assert node.stop() == 0
    node.start()
    assert cluster(node)["node_id"] == first


def test_a_contradicting_node_id_stops_the_node(make_node):
    node = make_node(extra_args=["--node-id=alpha"])
    assert cluster(node)["node_id"] == "alpha"
    assert node.stop() == 0
    node.extra_args = ["--node-id=beta"]
    result = run_quotad(node.args()[1:])
    assert result.returncode == 2, result


# ---------------------------------------------------------------- options

def test_help():
    result = run_quotad(["--help"])
    assert result.returncode == 0, result
    assert b"--http" in result.stdout + result.stderr


def base_args(tmp_path):
    return [f"--http=127.0.0.1:{free_port()}", f"--cluster=127.0.0.1:{free_port()}",
            f"--data-dir={tmp_path / 'db'}"]


@pytest.mark.parametrize("option,names", [
    ("--http=nonsense", ("http",)),
    ("--http=127.0.0.1:99999", ("http",)),
    ("--cluster=nonsense", ("cluster",)),
    ("--time-zone=Mars/Base", ("time-zone", "time_zone")),
    ("--log-level=loud", ("log-level", "log_level")),
    ("--frobnicate", ("frobnicate",)),
    ("--config=/nonexistent/quotad.conf", ("config",)),
])
def test_bad_option_exits_2_naming_it(tmp_path, option, names):
    result = run_quotad(base_args(tmp_path) + [option])
    assert result.returncode == 2, result
    output = (result.stdout + result.stderr).decode("utf-8", "replace").lower()
    assert any(n in output for n in names), output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_gracefully(node, sig):
    set_clock(node, NOW)
    put_quotas(node, "acme", [quota("DAY", 5)])
    debit(node, "acme", 2, expect=200)
    node.proc.send_signal(sig)
    node.proc.wait(timeout=30)
    assert node.stop() == 0
    node.start()
    set_clock(node, NOW)
    assert get_status(node, "acme")["lowest"]["remaining"] == 3


def test_tokens_from_the_environment(make_node):
    node = make_node(env={"QUOTAD_ADMIN_TOKEN": "env-admin", "QUOTAD_GATEWAY_TOKEN": "env-gw"})
    r = call(node, "PUT", "/v1/clients/acme/quotas", {"quotas": [quota("DAY", 5)]})
    assert_problem(r, 401)
    r = call(node, "PUT", "/v1/clients/acme/quotas", {"quotas": [quota("DAY", 5)]}, token="env-admin")
    assert r.status == 200, r
    assert_problem(call(node, "POST", "/v1/clients/acme/usage"), 401)
    assert call(node, "POST", "/v1/clients/acme/usage", token="env-gw").status == 200


def test_tokens_are_never_logged(admin_node):
    set_clock(admin_node, NOW)
    put_quotas(admin_node, "acme", [quota("DAY", 5)])
    debit(admin_node, "acme", expect=200)
    wrong = "wrong-token-3a9d"
    assert_problem(call(admin_node, "PUT", "/v1/clients/acme/quotas", {"quotas": []}, token=wrong), 403)
    assert_problem(call(admin_node, "POST", "/v1/clients/acme/usage", token=wrong), 403)
    assert admin_node.stop() == 0
    assert os.path.exists(admin_node.log_path)
    log = admin_node.log()
    for token in (ADMIN_TOKEN, GATEWAY_TOKEN, wrong):
        assert token not in log
