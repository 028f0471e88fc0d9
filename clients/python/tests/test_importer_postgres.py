"""The importer reading the SQL store's table from a real PostgreSQL server,
started here in a scratch directory (initdb + pg_ctl as the postgres user,
listening on 127.0.0.1 on a free port) and stopped in the fixture's cleanup.

Clock 2027-01-31T10:00:00Z; DAY window [1801353600, 1801440000).
"""
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import tempfile
from decimal import Decimal

import pytest

from conftest import ADMIN_TOKEN, GATEWAY_TOKEN, set_clock
from quotad_process import free_port
from quotad_client import ApiBilling, QuotaDefinition, QuotaDuration
from quotad_client import importer

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def _as_postgres(*cmd, **kw):
    prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    return subprocess.run(prefix + list(cmd), capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def postgres():
    psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2 (Debian: python3-psycopg2) is not installed")
    for tool in ("initdb", "pg_ctl"):
        if not os.access(os.path.join(PG_BIN, tool), os.X_OK):
            pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (Debian: postgresql; or set PG_BIN)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root and runuser is missing: PostgreSQL refuses to run as root")
    base = tempfile.mkdtemp(prefix="quotad-pg-")
    data, sock, log = os.path.join(base, "data"), os.path.join(base, "sock"), os.path.join(base, "pg.log")
    os.mkdir(sock)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
    port = free_port()
    started = False
    try:
        r = _as_postgres(os.path.join(PG_BIN, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
                         "-E", "UTF8", "--no-sync")
        assert r.returncode == 0, r.stdout + r.stderr
        r = _as_postgres(os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60",
                         "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off",
                         "start")
        started = r.returncode == 0
        assert started, r.stdout + r.stderr + (open(log).read() if os.path.exists(log) else "")
        dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        conn = psycopg2.connect(dsn)
        conn.close()
        yield dsn
    finally:
        if started:
            _as_postgres(os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def fill(dsn, table, rows):
    import psycopg2

    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute(f'DROP TABLE IF EXISTS {table}')
        # the SQL store's model: Integer primary key, String, Integer, Float
        cur.execute(f'CREATE TABLE {table} (id INTEGER PRIMARY KEY, client_id VARCHAR, '
                    '"timestamp" INTEGER, credits DOUBLE PRECISION)')
        cur.executemany(f'INSERT INTO {table} VALUES (%s, %s, %s, %s)', rows)
    conn.close()


def test_postgres_import(quotad, postgres, tmp_path):
    set_clock(quotad, "2027-01-31T10:00:00Z")
    api = ApiBilling(base_url=quotad.url, admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN,
                     time_zone="UTC", exact_numbers=True)
    try:
        for cid in ("pg-a", "pg-b"):
            api.delete_client(cid)
            api.update_client_quotas(cid, [QuotaDefinition(QuotaDuration.DAY, 20, dt.datetime(2022, 1, 1))])
        fill(postgres, "billing_usage", [
            (1, "pg-a", 1801386000, 1.5),         # Jan 31 09:00
            (2, "pg-a", 1801353599, 4.0),         # Jan 30 23:59:59
            (3, "pg-b", 1801357200, 0.25),        # Jan 31 01:00
            (4, None, 1801357200, 1.0),           # missing client id
            (5, "pg-b", 1801357200, -2.0),        # negative credits
            (6, "pg-b", 1801357200, float("nan")),  # NaN credits
            (7, "pg-a", None, 1.0),               # missing timestamp
            (8, "pg-b", 1801389600, 0.5),         # Jan 31 10:00
        ])
        state = str(tmp_path / "pg.state")
        argv = ["--url", quotad.url, "--admin-token", ADMIN_TOKEN, "--postgres", postgres,
                "--table", "billing_usage", "--state-file", state, "--batch-size", "1",
                "--summary-json", str(tmp_path / "s.json")]
        out = io.StringIO()
        assert importer.main(argv, stdout=out, stderr=io.StringIO()) == importer.EXIT_OK, out.getvalue()
        s = json.loads((tmp_path / "s.json").read_text())
        assert s["source"].startswith("PostgreSQL 127.0.0.1:")
        assert s["rows_read"] == 8 and s["records"] == 4 and s["credits"] == "6.25"
        assert s["imported"]["batches"] == 4
        assert {r: e["examples"] for r, e in s["skipped"]["reasons"].items()} == {
            "missing client id": ["id=4"], "negative credits": ["id=5"], "NaN credits": ["id=6"],
            "missing timestamp": ["id=7"]}
        assert api.get_total_usage("pg-a") == Decimal("5.5")
        assert api.get_total_usage("pg-b") == Decimal("0.75")
        assert api.get_lowest_quota("pg-a") == (Decimal("18.5"), dt.datetime(2027, 2, 1))  # 20 - 1.5
        assert api.get_lowest_quota("pg-b") == (Decimal("19.25"), dt.datetime(2027, 2, 1))

        # a rerun without the state file: quotad applies nothing twice
        os.unlink(state)
        assert importer.main(argv, stdout=io.StringIO(), stderr=io.StringIO()) == importer.EXIT_OK
        assert api.get_total_usage("pg-a") == Decimal("5.5")
        assert api.get_total_usage("pg-b") == Decimal("0.75")

        bad = importer.main(["--url", quotad.url, "--postgres", postgres, "--table", "no_such_table",
                             "--state-file", str(tmp_path / "x")], stdout=io.StringIO(),
                            stderr=io.StringIO())
        assert bad == importer.EXIT_USAGE
    finally:
        api.close()
