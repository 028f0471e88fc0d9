"""A real nginx (Debian's nginx-light) in front of a quotad cluster.

nginx runs configs/nginx-gateway.conf with its tagged lines rewritten to free
ports: `auth_request` debits every call to /api/ at quotad's /v1/authorize
(through any front door of the cluster); callers get the API's answer while
their quota lasts, then 429 with the rate-limit headers quotad sent.
"""
import http.client
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import (Cluster, _require_binary, clients_owned, find_quota, free_port, get_status,
                      ledger_total, policy_items, put_quotas, wait_for, wait_state, year_quota)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GATEWAY_CONF = os.path.join(REPO, "configs", "nginx-gateway.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


pytestmark = pytest.mark.skipif(not os.access(NGINX, os.X_OK),
                                reason="nginx is not installed (apt-get install nginx-light)")


def gateway_config(listen_port, backend_port, quotad_nodes):
    """configs/nginx-gateway.conf with its tagged lines pointed at these ports."""
    with open(GATEWAY_CONF) as f:
        lines = f.read().splitlines()
    out, seen = [], Counter()
    for line in lines:
        tag = re.search(r"#\s*(GATEWAY_LISTEN|QUOTAD_NODE|BACKEND_LISTEN|BACKEND_ADDR)\s*$", line)
        if not tag:
            out.append(line)
            continue
        tag = tag.group(1)
        seen[tag] += 1
        indent = line[:len(line) - len(line.lstrip())]
        if tag == "GATEWAY_LISTEN":
            out.append(f"{indent}listen 127.0.0.1:{listen_port};  # GATEWAY_LISTEN")
        elif tag == "BACKEND_LISTEN":
            out.append(f"{indent}listen 127.0.0.1:{backend_port};  # BACKEND_LISTEN")
        elif tag == "BACKEND_ADDR":
            out.append(f"{indent}server 127.0.0.1:{backend_port};  # BACKEND_ADDR")
        elif seen[tag] == 1:  # QUOTAD_NODE: the first line becomes one line per node
            options = re.search(r"server\s+\S+?(\s[^;]*)?;", line).group(1) or ""
            for n in quotad_nodes:
                out.append(f"{indent}server 127.0.0.1:{n.http_port}{options};  # QUOTAD_NODE")
    assert seen["GATEWAY_LISTEN"] == 1 and seen["BACKEND_LISTEN"] == 1, seen
    assert seen["BACKEND_ADDR"] == 1 and seen["QUOTAD_NODE"] >= 1, seen
    return "\n".join(out) + "\n"


class Nginx:
    """nginx in the foreground with its prefix (config, pid, logs) in a temporary directory."""

    def __init__(self, quotad_nodes):
        self.prefix = tempfile.mkdtemp(prefix="quotad-nginx-")
        os.chmod(self.prefix, 0o755)  # workers may run as another user
        self.port = free_port()
        self.backend_port = free_port()
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(gateway_config(self.port, self.backend_port, quotad_nodes))
        self.proc = None

    def start(self):
        self.out = open(os.path.join(self.prefix, "stdout.log"), "wb")
        self.proc = subprocess.Popen(
            [NGINX, "-p", self.prefix + "/", "-e", "error.log", "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.out)

        def answers():
            if self.proc.poll() is not None:
                pytest.fail(f"nginx exited with {self.proc.returncode}: {self.log()}")
            return self.request("GET", "/")[0] == 404

        wait_for(answers, "nginx to answer", timeout=20)
        return self

    def log(self):
        text = ""
        for name in ("stdout.log", "error.log"):
            try:
                with open(os.path.join(self.prefix, name), "rb") as f:
                    text += f"--- {name}\n" + f.read().decode("utf-8", "replace")
            except OSError:
                pass
        return text

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGQUIT)  # graceful: finish open requests
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
            self.out.close()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def request(self, method, path, key=None, body=None, conn=None):
        """(status, lower-case headers, body text); on `conn` (keep-alive) if given."""
        own = conn is None
        if own:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"X-Api-Key": key} if key is not None else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
        finally:
            if own:
                conn.close()


def start_cluster(procs, size):
    def register(p):
        procs.append(p)
        p.start()

    c = Cluster(register)
    for k in range(1, size + 1):
        c.start_node(f"n{k}")
    c.wait_settled()
    return c


@pytest.fixture(scope="module")
def gateway():
    """A three-node cluster and nginx in front of all its doors: (cluster, nginx)."""
    _require_binary()
    procs, nginx = [], None
    try:
        c = start_cluster(procs, 3)
        nginx = Nginx(list(c.nodes.values())).start()
        yield c, nginx
    finally:
        if nginx is not None:
            nginx.stop()
        for p in procs:
            p.cleanup()


def test_a_caller_gets_its_limit_then_429_with_the_rate_limit_headers(gateway):
    c, nginx = gateway
    n1 = c["n1"]
    limit = 12
    # one caller owned by each node: nginx reaches them through any door
    callers = [cs[0] for cs in clients_owned(n1, "gw-", 1, ["n1", "n2", "n3"]).values()]
    for key in callers:
        doc = put_quotas(n1, key, [year_quota(limit)])
        reset = find_quota(doc, "YEAR")["reset"]
        conn = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=30)
        try:
            for k in range(limit):
                status, headers, body = nginx.request("GET", "/api/hello", key, conn=conn)
                assert (status, body) == (200, "ok\n"), (key, k, status, headers, body)
                assert headers["x-ratelimit-remaining"] == str(limit - 1 - k)
                assert headers["x-ratelimit-reset"] == str(reset)
                assert policy_items(headers["ratelimit-policy"]) == \
                    {"year": {"q": str(limit), "w": "31536000"}}
                assert policy_items(headers["ratelimit"])["year"]["r"] == str(limit - 1 - k)
                assert "retry-after" not in headers
            for _ in range(3):
                status, headers, body = nginx.request("GET", "/api/hello", key, conn=conn)
                assert status == 429, (key, status, headers, body)
                assert body == '{"error":"quota exceeded"}\n'
                assert headers["x-ratelimit-remaining"] == "0"
                assert headers["x-ratelimit-reset"] == str(reset)
                assert policy_items(headers["ratelimit-policy"]) == \
                    {"year": {"q": str(limit), "w": "31536000"}}
                assert policy_items(headers["ratelimit"])["year"]["r"] == "0"
                assert int(headers["retry-after"]) == int(
                    policy_items(headers["ratelimit"])["year"]["t"]) > 0
        finally:
            conn.close()
        # quotad counted the admitted calls only
        for n in c.nodes.values():
            assert find_quota(get_status(n, key), "YEAR")["used"] == limit
            assert ledger_total(n, key) == limit


def test_concurrent_callers_through_nginx_get_exactly_their_limit(gateway):
    c, nginx = gateway
    limit, threads, each = 40, 8, 10
    key = "gw-hot"
    put_quotas(c["n2"], key, [year_quota(limit)])
    barrier = threading.Barrier(threads, timeout=60)

    def work(i):
        conn = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=30)
        try:
            barrier.wait()
            return [nginx.request("POST" if k % 2 else "GET", "/api/items", key,
                                  body=b'{"payload":"not for quotad"}' if k % 2 else None,
                                  conn=conn)[0] for k in range(each)]
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = [s for sub in pool.map(work, range(threads)) for s in sub]
    assert Counter(statuses) == {200: limit, 429: threads * each - limit}
    assert find_quota(get_status(c["n3"], key), "YEAR")["used"] == limit
    assert ledger_total(c["n1"], key) == limit


def test_an_unknown_caller_gets_403_and_a_caller_without_a_key_401(gateway):
    c, nginx = gateway
    status, headers, body = nginx.request("GET", "/api/hello", "gw-nobody")
    assert (status, body) == (403, '{"error":"no quota for this API key"}\n')
    assert not {"x-ratelimit-remaining", "ratelimit", "ratelimit-policy", "retry-after"} & set(headers)

    status, headers, body = nginx.request("GET", "/api/hello")
    assert (status, body) == (401, '{"error":"missing X-Api-Key"}\n')
    get_status(c["n1"], "gw-nobody", expect=404)  # nothing was created


def test_a_caller_without_limits_passes_without_headers(gateway):
    c, nginx = gateway
    put_quotas(c["n1"], "gw-free", [])
    for _ in range(3):
        status, headers, body = nginx.request("GET", "/api/hello", "gw-free")
        assert (status, body) == (200, "ok\n")
        assert not {"x-ratelimit-remaining", "ratelimit", "ratelimit-policy"} & set(headers)
    assert ledger_total(c["n2"], "gw-free") == 3


def test_callers_of_a_down_node_get_503_through_nginx(make_cluster):
    c = make_cluster(3)
    nginx = Nginx(list(c.nodes.values())).start()
    try:
        owned = clients_owned(c["n1"], "gw-down-", 1, ["n1", "n3"])
        victim, other = owned["n3"][0], owned["n1"][0]
        for key in (victim, other):
            put_quotas(c["n1"], key, [year_quota(10)])
            answer = nginx.request("GET", "/api/hello", key)
            assert answer[0] == 200, answer

        c["n3"].kill9()
        wait_state([c["n1"], c["n2"]], "n3", "down")
        for _ in range(4):
            status, headers, body = nginx.request("GET", "/api/hello", victim)
            assert (status, body) == (503, '{"error":"quota service unavailable"}\n'), \
                (status, headers, body)
            assert headers["retry-after"] == "1"
            status, headers, body = nginx.request("GET", "/api/hello", other)
            assert (status, body) == (200, "ok\n"), (status, headers, body, nginx.log())

        c["n3"].start()
        c.wait_settled()
        answer = nginx.request("GET", "/api/hello", victim)
        assert answer[0] == 200, (answer, nginx.log())
        assert find_quota(get_status(c["n2"], victim), "YEAR")["used"] == 2
        assert find_quota(get_status(c["n2"], other), "YEAR")["used"] == 5
    finally:
        nginx.stop()
