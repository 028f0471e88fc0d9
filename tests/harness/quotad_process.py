"""Starts and stops a real quotad binary for end-to-end tests.

Every process started here is stopped by the test that started it (use the
class as a context manager, or call stop()). Servers listen on 127.0.0.1
only; ports are picked free by the kernel so parallel tests do not collide.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def quotad_binary():
    return os.environ.get("QUOTAD_BIN", os.path.join(REPO, "build", "quotad"))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuotadProcess:
    def __init__(self, data_dir=None, testing_clock=True, admin_token=None,
                 gateway_token=None, extra_args=(), env=None):
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="quotad-e2e-")
        self.testing_clock = testing_clock
        self.admin_token = admin_token
        self.gateway_token = gateway_token
        self.extra_args = list(extra_args)
        self.env = env
        self.http_port = free_port()
        self.cluster_port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "quotad.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def args(self):
        args = [quotad_binary(),
                f"--http=127.0.0.1:{self.http_port}",
                f"--cluster=127.0.0.1:{self.cluster_port}",
                f"--data-dir={os.path.join(self.data_dir, 'db')}",
                "--log-level=warn"]
        if self.testing_clock:
            args.append("--testing-clock")
        if self.admin_token:
            args.append(f"--admin-token={self.admin_token}")
        if self.gateway_token:
            args.append(f"--gateway-token={self.gateway_token}")
        return args + self.extra_args

    def start(self, timeout=20.0):
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args(), stdout=self._log, stderr=self._log,
                                     stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"quotad exited with {self.proc.returncode}:\n{self.log()}")
            try:
                status, _, _ = self.request("GET", "/healthz", timeout=1.0)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError(f"quotad did not become healthy:\n{self.log()}")

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=20.0):
        """SIGTERM, wait; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        self._log.close()
        return code

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc is not None:
            self.proc = None
            self._log.close()

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.kill9()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def request(self, method, path, body=None, headers=None, timeout=10.0, raw=False):
        """One request on a fresh connection: (status, headers dict, body).

        The body is parsed as JSON when it looks like JSON, unless raw."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            data = None
            if body is not None:
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                if isinstance(data, str):
                    data = data.encode()
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            resp_headers = {k.lower(): v for k, v in resp.getheaders()}
            if not raw and payload[:1] in (b"{", b"["):
                payload = json.loads(payload)
            return resp.status, resp_headers, payload
        finally:
            conn.close()
