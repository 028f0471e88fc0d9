"""The importer against a real quotad: a SQLite file in the SQL store's
schema and a mongoexport JSON-lines file, imported, checked against values
computed by hand, rerun, interrupted and resumed.

Clock: 2027-01-31T10:00:00Z. Windows (from 2022-01-01 UTC): DAY
[2027-01-31T00:00Z = 1801353600, 2027-02-01T00:00Z = 1801440000), MONTH
[2027-01-01T00:00Z = 1798761600, 1801440000). Other instants used:
  2026-12-31T00:00Z 1798675200   2026-12-31T23:59:59Z 1798761599
  2027-01-30T00:00Z 1801267200   2027-01-30T01:00Z    1801270800
  2027-01-30T23:59:59Z 1801353599
  2027-01-31T01:00Z 1801357200   02:00Z 1801360800   08:00Z 1801382400
  2027-01-31T09:00Z 1801386000   10:00Z 1801389600
"""
import datetime as dt
import io
import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal

import pytest

from conftest import ADMIN_TOKEN, CLIENT_ROOT, GATEWAY_TOKEN, set_clock
from quotad_client import ApiBilling, QuotaDefinition, QuotaDuration, QuotaException
from quotad_client import importer

NOW = "2027-01-31T10:00:00Z"
JAN1_2022 = dt.datetime(2022, 1, 1)

# (id, client_id, timestamp, credits): the SQL store's rows, good and bad
SQL_ROWS = [
    (1, "alice", 1801386000, 2.5),          # Jan 31 09:00: DAY and MONTH
    (2, "alice", 1801353599, 10.0),         # Jan 30 23:59:59: MONTH only
    (3, "alice", 1798761599, 100.0),        # Dec 31 23:59:59: history only
    (4, "bob", 1801357200, 0.1),            # Jan 31 01:00
    (5, "bob", 1801360800, 0.2),            # Jan 31 02:00
    (6, None, 1801357200, 1.0),             # missing client id
    (7, "", 1801357200, 1.0),               # missing client id
    (8, "alice", 1801357200, -1.0),         # negative credits
    (9, "alice", 1801357200, "abc"),        # non-numeric credits
    (10, "alice", None, 1.0),               # missing timestamp
    (11, "alice", "yesterday", 1.0),        # bad timestamp
    (12, "alice", 1801357200, None),        # missing credits
    (13, "alice", 1801389600000, 1.0),      # milliseconds
    (14, "alice", 1801353600, 0.333333333), # Jan 31 00:00, rounded to 0.333333
    (15, "carol", 1801357200, 3.0),         # Jan 31 01:00
    (16, "alice", 1801389600, 1.0),         # Jan 31 10:00 (now)
]
SQL_SKIPS = {
    "missing client id": ["id=6", "id=7"],
    "negative credits": ["id=8"],
    "non-numeric credits": ["id=9"],
    "missing timestamp": ["id=10"],
    "bad timestamp (not a number)": ["id=11"],
    "missing credits": ["id=12"],
    "bad timestamp (after 9999; milliseconds instead of seconds?)": ["id=13"],
}

OID = "65a0000000000000000000%02d"
MONGO_LINES = [
    {"_id": {"$oid": OID % 1}, "clientId": "alice", "timestamp": {"$numberLong": "1801382400"},
     "credits": {"$numberDouble": "4.0"}},                                     # Jan 31 08:00
    {"_id": {"$oid": OID % 2}, "clientId": "dave", "timestamp": 1801270800, "credits": 7},  # Jan 30
    {"_id": {"$oid": OID % 3}, "clientId": "dave", "timestamp": {"$numberInt": "1801357200"},
     "credits": {"$numberInt": "2"}},                                          # Jan 31 01:00
    {"_id": {"$oid": OID % 4}, "clientId": "dave", "timestamp": 1801357300,
     "credits": {"$numberDouble": "NaN"}},                                     # NaN credits
    {"_id": {"$oid": OID % 5}, "timestamp": 1801357300, "credits": 1},       # missing client id
    "this is not JSON",                                                       # unparsable
    {"_id": {"$oid": OID % 6}, "clientId": "dave", "timestamp": "soon", "credits": 1},  # bad timestamp
    {"_id": {"$oid": OID % 3}, "clientId": "dave", "timestamp": 1801357200, "credits": 2},  # duplicate _id
    {"_id": {"$oid": OID % 7}, "clientId": "dave", "timestamp": 1801357400,
     "credits": {"$numberDecimal": "0.25"}},                                   # Jan 31
    {"_id": {"$oid": OID % 8}, "clientId": "dave", "timestamp": 1801357500,
     "credits": {"$numberDouble": "-Infinity"}},                               # infinite credits
    {"_id": {"$oid": OID % 9}, "clientId": 42, "timestamp": 1801357500, "credits": 1},  # client "42"
]


@pytest.fixture
def billing(quotad):
    set_clock(quotad, NOW)
    api = ApiBilling(base_url=quotad.url, admin_token=ADMIN_TOKEN, gateway_token=GATEWAY_TOKEN,
                     time_zone="UTC", exact_numbers=True)
    try:
        for cid, day in (("alice", 100), ("bob", 10), ("carol", 10), ("dave", 50), ("42", 5)):
            api.delete_client(cid)
            api.update_client_quotas(cid, [QuotaDefinition(QuotaDuration.DAY, day, JAN1_2022),
                                           QuotaDefinition(QuotaDuration.MONTH, 1000, JAN1_2022)])
        yield api
    finally:
        api.close()


def make_sqlite(path, rows, table="api_billing_usage"):
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, client_id TEXT, "
                 "timestamp INTEGER, credits REAL)")
    conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return str(path)


def make_mongo_export(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return str(path)


def run(quotad, tmp_path, *args, token=ADMIN_TOKEN):
    out, err = io.StringIO(), io.StringIO()
    summary_path = tmp_path / "summary.json"
    if summary_path.exists():
        summary_path.unlink()
    argv = ["--url", quotad.url, "--summary-json", str(summary_path), "--progress-every", "1", *args]
    if token is not None:
        argv += ["--admin-token", token]
    code = importer.main(argv, stdout=out, stderr=err)
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return code, summary, out.getvalue(), err.getvalue()


def lowest(api, cid):
    return api.get_lowest_quota(cid)


def used(api, cid):
    doc = api.get_client_quotas(cid)
    return {q["duration"]: q["used"] for q in doc["quotas"]}


def test_sqlite_import_rerun_and_resume(quotad, billing, tmp_path):
    db = make_sqlite(tmp_path / "app.db", SQL_ROWS)
    state = str(tmp_path / "sql.state")
    common = ["--sqlite", db, "--batch-size", "2", "--state-file", state]

    # 1. interrupted after two batches: alice rows 1+2, then 3+14
    code, s, out, err = run(quotad, tmp_path, *common, "--max-batches", "2")
    assert code == importer.EXIT_INCOMPLETE
    assert s["imported"] == {"batches": 2, "records": 4, "credits": "112.833333"}
    assert "--max-batches" in s["stopped"] and "INCOMPLETE" in out
    assert billing.get_total_usage("alice") == Decimal("112.833333")
    assert billing.get_total_usage("bob") == 0

    # 2. the last batch reached quotad but its state line was lost (a crash in between)
    with open(state, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) == 3  # header + 2 batches
    with open(state, "w", encoding="utf-8") as f:
        f.write("\n".join(lines[:2]) + "\n" + lines[2][:17])  # a torn last line

    code, s, out, err = run(quotad, tmp_path, *common)
    assert code == importer.EXIT_OK, out
    assert s["complete"] is True
    assert s["imported_earlier"] == {"batches": 1, "records": 2, "credits": "12.5"}
    # sent now: alice 3+14 (again: quotad must not apply it twice), alice 16, bob 4+5, carol 15
    assert s["imported"] == {"batches": 4, "records": 6, "credits": "104.633333"}
    assert s["rows_read"] == 16
    assert s["clients"] == 3
    assert s["records"] == 8
    assert s["credits"] == "117.133333"       # 113.833333 + 0.3 + 3
    assert s["batches"] == 5
    assert s["rounded"] == 1
    assert s["skipped"]["rows"] == 8
    assert {r: e["examples"] for r, e in s["skipped"]["reasons"].items()} == SQL_SKIPS
    assert "skipped bad rows:   8" in out and "missing client id: 2 (e.g. id=6, id=7)" in out

    # alice: 2.5 + 10 + 100 + 0.333333 + 1
    assert billing.get_total_usage("alice") == Decimal("113.833333")
    assert billing.get_total_usage("bob") == Decimal("0.3")
    assert billing.get_total_usage("carol") == 3
    # current windows: alice DAY = 2.5 + 0.333333 + 1, MONTH adds Jan 30's 10
    assert used(billing, "alice") == {"DAY": Decimal("3.833333"), "MONTH": Decimal("13.833333")}
    assert lowest(billing, "alice") == (Decimal("96.166667"), dt.datetime(2027, 2, 1))
    assert lowest(billing, "bob") == (Decimal("9.7"), dt.datetime(2027, 2, 1))
    assert [(u.timestamp, u.credits) for u in billing.get_daily_usage("alice")] == [
        (1798675200, 100), (1801267200, 10), (1801353600, Decimal("3.833333"))]

    # 3. a plain rerun sends nothing
    code, s, out, err = run(quotad, tmp_path, *common)
    assert code == importer.EXIT_OK
    assert s["imported"]["batches"] == 0
    assert s["imported_earlier"] == {"batches": 5, "records": 8, "credits": "117.133333"}

    # 4. without the state file everything is sent again, and quotad applies none of it twice
    os.unlink(state)
    code, s, out, err = run(quotad, tmp_path, *common)
    assert code == importer.EXIT_OK
    assert s["imported"]["batches"] == 5
    assert billing.get_total_usage("alice") == Decimal("113.833333")
    assert billing.get_total_usage("bob") == Decimal("0.3")
    assert billing.get_total_usage("carol") == 3
    assert lowest(billing, "alice") == (Decimal("96.166667"), dt.datetime(2027, 2, 1))

    # 5. debits keep working on top of the history
    billing.track_client_usage("alice", Decimal("96.166667"), use_abort=False)
    assert lowest(billing, "alice") == (0, dt.datetime(2027, 2, 1))


def test_mongo_export_import_as_a_command(quotad, billing, tmp_path):
    export = make_mongo_export(tmp_path / "apiUsage.jsonl", MONGO_LINES)
    state = tmp_path / "mongo.state"
    env = dict(os.environ, QUOTAD_ADMIN_TOKEN=ADMIN_TOKEN,
               PYTHONPATH=CLIENT_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "quotad_client.importer", "--url", quotad.url,
           "--mongo-export", export, "--state-file", str(state), "--progress-every", "1",
           "--summary-json", str(tmp_path / "s.json")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["rows_read"] == 11
    assert s["clients"] == 3          # alice, dave, "42"
    assert s["records"] == 5
    assert s["credits"] == "14.25"    # 4 + 7 + 2 + 0.25 + 1
    assert s["imported"]["batches"] == 3
    assert {r: e["count"] for r, e in s["skipped"]["reasons"].items()} == {
        "NaN credits": 1, "missing client id": 1, "unparsable JSON line": 1,
        "bad timestamp (not a number)": 1, "duplicate _id": 1, "infinite credits": 1}
    assert "quotad import: " in proc.stderr          # progress lines (stderr is not a terminal)
    assert "quotad import summary" in proc.stdout and "result:             complete" in proc.stdout

    assert billing.get_total_usage("alice") == 4
    assert billing.get_total_usage("dave") == Decimal("9.25")
    assert billing.get_total_usage(42) == 1
    assert lowest(billing, "dave") == (Decimal("47.75"), dt.datetime(2027, 2, 1))  # 50 - 2 - 0.25
    assert [(u.timestamp, u.credits) for u in billing.get_daily_usage("dave")] == [
        (1801267200, 7), (1801353600, Decimal("2.25"))]

    # both sources for one client: SQL history adds to the Mongo history
    db = make_sqlite(tmp_path / "app.db", SQL_ROWS)
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db, "--state-file", str(tmp_path / "sql.state"))
    assert code == importer.EXIT_OK, out
    assert billing.get_total_usage("alice") == Decimal("117.833333")
    assert used(billing, "alice") == {"DAY": Decimal("7.833333"), "MONTH": Decimal("17.833333")}

    # rerun of the command: nothing sent again
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert json.loads((tmp_path / "s.json").read_text())["imported"]["batches"] == 0
    assert billing.get_total_usage("dave") == Decimal("9.25")


def test_ten_thousand_and_one_records(quotad, billing, tmp_path):
    rows = [(i, "bulk-client", 1801353600 + i, 0.5) for i in range(1, 10_002)]
    db = make_sqlite(tmp_path / "bulk.db", rows)
    billing.delete_client("bulk-client")
    billing.update_client_quotas("bulk-client", [])
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db, "--state-file", str(tmp_path / "b.state"))
    assert code == importer.EXIT_OK, out
    assert s["batches"] == 2 and s["imported"]["records"] == 10_001
    assert billing.get_total_usage("bulk-client") == Decimal("5000.5")
    billing.delete_client("bulk-client")


def test_client_without_quotas_keeps_its_history(quotad, billing, tmp_path):
    # quotad keeps history imported before the client's quotas; the summary names such clients
    billing.delete_client("nobody-yet")
    db = make_sqlite(tmp_path / "app.db", [(1, "nobody-yet", 1801357200, 1.0), (2, "bob", 1801357200, 1.0),
                                           (3, "nobody-yet", 1801270800, 2.0)])
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db, "--state-file", str(tmp_path / "s.state"))
    assert code == importer.EXIT_OK, out
    assert s["clients_without_quotas"] == ["nobody-yet"]
    assert s["imported"]["records"] == 3
    assert "without quotas:     1 of the clients sent in this run ('nobody-yet')" in out
    assert billing.get_total_usage("bob") == 1
    # still unknown: debits refused
    with pytest.raises(QuotaException) as info:
        billing.track_client_usage("nobody-yet", use_abort=False)
    assert info.value.status_code == 403
    # once the application gives it quotas, the history counts: DAY 5 - 1 (Jan 31), MONTH 1000 - 3
    billing.update_client_quotas("nobody-yet", [QuotaDefinition(QuotaDuration.DAY, 5, JAN1_2022),
                                                QuotaDefinition(QuotaDuration.MONTH, 1000, JAN1_2022)])
    assert lowest(billing, "nobody-yet") == (4, dt.datetime(2027, 2, 1))
    assert used(billing, "nobody-yet") == {"DAY": 1, "MONTH": 3}
    assert billing.get_total_usage("nobody-yet") == 3
    billing.delete_client("nobody-yet")


def test_dry_run_sends_nothing(quotad, billing, tmp_path):
    db = make_sqlite(tmp_path / "app.db", SQL_ROWS)
    state = tmp_path / "dry.state"
    skipped = tmp_path / "skipped.jsonl"
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db, "--dry-run", "--state-file", str(state),
                            "--skipped-rows", str(skipped))
    assert code == importer.EXIT_OK
    assert s["dry_run"] is True and s["records"] == 8 and s["imported"]["records"] == 8
    assert "would import:" in out
    assert not state.exists()
    assert billing.get_total_usage("alice") == 0
    rows = [json.loads(line) for line in skipped.read_text().splitlines()]
    assert {r["row"]: r["reason"] for r in rows} == {k: reason for reason, keys in SQL_SKIPS.items() for k in keys}
    assert next(r for r in rows if r["row"] == "id=8")["data"] == [8, "alice", 1801357200, -1.0]


def test_interrupted_mid_way_and_resumed(quotad, billing, tmp_path, monkeypatch):
    db = make_sqlite(tmp_path / "app.db", SQL_ROWS)
    state = str(tmp_path / "s.state")
    real_request = importer.Transport.request
    calls = []

    def interrupted_on_third_import(self, method, path, *args, **kw):
        if path.endswith("/usage:import"):
            calls.append(path)
            if len(calls) == 3:
                raise KeyboardInterrupt  # Ctrl-C while the third batch is on its way
        return real_request(self, method, path, *args, **kw)

    monkeypatch.setattr(importer.Transport, "request", interrupted_on_third_import)
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db, "--batch-size", "2", "--state-file", state)
    assert code == importer.EXIT_INTERRUPTED
    assert "interrupted" in s["stopped"] and s["complete"] is False
    assert s["imported"] == {"batches": 2, "records": 4, "credits": "112.833333"}
    assert billing.get_total_usage("alice") == Decimal("112.833333")

    monkeypatch.setattr(importer.Transport, "request", real_request)
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db, "--batch-size", "2", "--state-file", state)
    assert code == importer.EXIT_OK
    assert s["imported_earlier"]["batches"] == 2 and s["imported"]["batches"] == 3
    assert billing.get_total_usage("alice") == Decimal("113.833333")
    assert billing.get_total_usage("bob") == Decimal("0.3")
    assert billing.get_total_usage("carol") == 3


def test_changed_source_is_not_imported_twice(quotad, billing, tmp_path):
    db = tmp_path / "app.db"
    make_sqlite(db, [(1, "bob", 1801357200, 1.0)])
    state = str(tmp_path / "s.state")
    assert run(quotad, tmp_path, "--sqlite", str(db), "--state-file", state)[0] == importer.EXIT_OK
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO api_billing_usage VALUES (2, 'bob', 1801357300, 2.0)")
    conn.commit()
    conn.close()
    # bob's first batch now holds two rows: sending it would count row 1 twice
    code, s, out, err = run(quotad, tmp_path, "--sqlite", str(db), "--state-file", state)
    assert code == importer.EXIT_INCOMPLETE
    assert "the source changed" in s["failed_clients"]["bob"]
    assert billing.get_total_usage("bob") == 1


def test_bad_arguments_and_sources(quotad, billing, tmp_path):
    db = make_sqlite(tmp_path / "app.db", SQL_ROWS)
    with pytest.raises(SystemExit) as info:
        importer.main(["--sqlite", db, "--batch-size", "10001"], stdout=io.StringIO(), stderr=io.StringIO())
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        importer.main(["--sqlite", db, "--mongo-export", db], stdout=io.StringIO(), stderr=io.StringIO())

    code, s, out, err = run(quotad, tmp_path, "--sqlite", str(tmp_path / "missing.db"))
    assert code == importer.EXIT_USAGE and "no such file" in err
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db, "--table", "usage")
    assert code == importer.EXIT_USAGE and "cannot read table" in err
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db, "--table", "x; DROP TABLE y")
    assert code == importer.EXIT_USAGE and "not a plain table name" in err

    # a state file of another source
    state = str(tmp_path / "s.state")
    assert run(quotad, tmp_path, "--sqlite", db, "--state-file", state, "--dry-run")[0] == 0
    run(quotad, tmp_path, "--sqlite", db, "--state-file", state, "--max-batches", "0")
    export = make_mongo_export(tmp_path / "e.jsonl", MONGO_LINES[:1])
    code, s, out, err = run(quotad, tmp_path, "--mongo-export", export, "--state-file", state)
    assert code == importer.EXIT_USAGE and "use another --state-file" in err


def test_wrong_token_and_unreachable_server(quotad, billing, tmp_path, dead_url):
    db = make_sqlite(tmp_path / "app.db", [(1, "bob", 1801357200, 1.0)])
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db, "--state-file", str(tmp_path / "a"),
                            token="wrong")
    assert code == importer.EXIT_USAGE
    assert "refused the admin token" in s["stopped"]
    assert billing.get_total_usage("bob") == 0

    out = io.StringIO()
    code = importer.main(["--url", dead_url, "--sqlite", db, "--state-file", str(tmp_path / "b"),
                          "--retries", "0", "--admin-token", ADMIN_TOKEN], stdout=out, stderr=io.StringIO())
    assert code == importer.EXIT_UNAVAILABLE
    assert "unreachable" in out.getvalue() and "rerun to resume" in out.getvalue()


def test_default_state_file_lives_in_the_working_directory(quotad, billing, tmp_path, monkeypatch):
    db = make_sqlite(tmp_path / "app.db", [(1, "bob", 1801357200, 1.0)])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, s, out, err = run(quotad, tmp_path, "--sqlite", db)
    assert code == importer.EXIT_OK
    (state,) = list(work.glob("quotad-import-*.state"))
    assert s["state_file"] == str(state)
    assert run(quotad, tmp_path, "--sqlite", db)[1]["imported_earlier"]["records"] == 1
    assert billing.get_total_usage("bob") == 1


# --- pieces without a server -----------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal():
    term = _Terminal()
    p = importer.Progress(term, total=200, every=10)
    p.update(100, 1, 1)
    p.finish()
    text = term.getvalue()
    assert text.startswith("\rimporting [###############---------------]  50.0%  100/200 rows")
    assert text.endswith("100/200 rows  1 batches  1 clients\n")


def test_progress_lines_when_not_a_terminal():
    pipe = io.StringIO()
    p = importer.Progress(pipe, total=30, every=2)
    for batch in range(1, 4):
        p.update(batch * 10, batch, 1)
    p.finish()
    assert pipe.getvalue().splitlines() == [
        "quotad import:  66.7%  20/30 rows  2 batches  1 clients",
        "quotad import: 100.0%  30/30 rows  3 batches  1 clients",
    ]


@pytest.mark.parametrize("value, expected", [
    (1, (1_000_000, False)), (0.1, (100_000, False)), ("2.5", (2_500_000, False)),
    (0.1234567, (123_457, True)), ("0", (0, False)), (Decimal("1e3"), (1_000_000_000, False)),
])
def test_check_credits(value, expected):
    assert importer.check_credits(value) == expected


@pytest.mark.parametrize("value, reason", [
    (None, "missing credits"), ("x", "non-numeric credits"), (float("nan"), "NaN credits"),
    ("NaN", "NaN credits"), (float("inf"), "infinite credits"), (-0.5, "negative credits"),
    (10 ** 13, "credits too large (more than 1000000000000)"), (True, "non-numeric credits"),
])
def test_check_credits_rejects(value, reason):
    with pytest.raises(importer.BadRow) as info:
        importer.check_credits(value)
    assert info.value.reason == reason


def test_extended_json_wrappers():
    u = importer.unwrap_extended_json
    assert u({"$numberLong": "1801382400"}) == 1801382400
    assert u({"$numberInt": "7"}) == 7
    assert u({"$numberDouble": "2.5"}) == 2.5
    assert u({"$numberDecimal": "0.25"}) == "0.25"
    assert u({"$oid": "65a0"}) == "65a0"
    assert u({"$date": {"$numberLong": "1801382400000"}}) == 1801382400
    assert u({"$date": "2027-01-31T08:00:00Z"}) == 1801382400
    assert u({"a": 1, "b": 2}) == {"a": 1, "b": 2}
