"""Imports the Flask API-billing library's usage history into quotad.

    python3 -m quotad_client.importer --url http://quotad:8080 --sqlite app.db
    python3 -m quotad_client.importer --postgres "host=db dbname=app user=app"
    python3 -m quotad_client.importer --mongo-export api_usage.jsonl

Reads the usage stores' rows (one per debit: client id, epoch-second
timestamp, credits), groups them by client, and sends them to
POST /v1/clients/{id}/usage:import in batches of at most 10,000 records.

Every batch has a deterministic import id (from the source name, the client,
the batch's position and its content), and quotad applies an import id only
once per client; a state file records the batches already done, so a rerun
after an interruption sends only what is missing. Bad rows are skipped and
reported. The admin token comes from --admin-token or $QUOTAD_ADMIN_TOKEN.

History of a client that has no quotas on the server yet is kept by quotad
and counts once the client gets quotas; the summary lists such clients.

Exit status: 0 everything imported (bad rows skipped); 1 some batches not
imported (refused by quotad, a source that changed since an earlier run, or
stopped by --max-batches); 2 bad arguments, unreadable source or state file, or
refused credentials; 3 quotad unavailable; 130 interrupted.
"""
import argparse
import hashlib
import json
import math
import os
import re
import signal
import sqlite3
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from . import _values as V
from ._http import Transport
from .errors import QuotadUnavailable

MAX_BATCH = 10_000
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z
EXAMPLES_PER_REASON = 5

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

_TABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


class UsageError(Exception):
    """Bad arguments, or a source or state file that cannot be used (exit 2)."""


class _Interrupted(Exception):
    pass


class BadRow(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


# --- validating one row ------------------------------------------------------------

def check_client(value):
    if value is None:
        raise BadRow("missing client id")
    if isinstance(value, bool):
        raise BadRow("bad client id (not a string)")
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRow("bad client id (not UTF-8)") from None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise BadRow("bad client id (not a string)")
    if value == "":
        raise BadRow("missing client id")
    if len(value.encode("utf-8", "surrogatepass")) > 256:
        raise BadRow("bad client id (longer than 256 bytes)")
    return value


def _as_number(value):
    """int, float or Decimal from a stored value; None when not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    return None


def check_timestamp(value):
    if value is None:
        raise BadRow("missing timestamp")
    number = _as_number(value)
    if number is None:
        raise BadRow("bad timestamp (not a number)")
    if isinstance(number, float) and not math.isfinite(number):
        raise BadRow("bad timestamp (not finite)")
    if isinstance(number, Decimal) and not number.is_finite():
        raise BadRow("bad timestamp (not finite)")
    seconds = int(math.floor(number))
    if seconds < 0:
        raise BadRow("bad timestamp (before 1970)")
    if seconds > MAX_TIMESTAMP:
        if seconds < MAX_TIMESTAMP * 1000:
            raise BadRow("bad timestamp (after 9999; milliseconds instead of seconds?)")
        raise BadRow("bad timestamp (after 9999)")
    return seconds


def check_credits(value):
    """(micro-credits, rounded) for a stored amount."""
    if value is None:
        raise BadRow("missing credits")
    number = _as_number(value)
    if number is None:
        raise BadRow("non-numeric credits")
    if isinstance(number, float):
        if math.isnan(number):
            raise BadRow("NaN credits")
        if math.isinf(number):
            raise BadRow("infinite credits")
        exact = Decimal(repr(number))
    else:
        exact = Decimal(number)
        if exact.is_nan():
            raise BadRow("NaN credits")
        if exact.is_infinite():
            raise BadRow("infinite credits")
    if exact < 0:
        raise BadRow("negative credits")
    if exact > V.MAX_CREDITS:
        raise BadRow(f"credits too large (more than {V.MAX_CREDITS})")
    micro = V.to_micro(float(number) if isinstance(number, float) else
                       exact.quantize(Decimal("0.000001")), "credits")
    rounded = Decimal(micro) / V.MICRO != exact
    return micro, rounded


# --- sources -------------------------------------------------------------------------

class Skips:
    """Bad rows: counts by reason, a few example keys, optionally every row to a file."""

    def __init__(self, path=None):
        self.reasons = {}
        self.total = 0
        self._file = open(path, "w", encoding="utf-8") if path else None

    def add(self, reason, key, row=None):
        self.total += 1
        entry = self.reasons.setdefault(reason, {"count": 0, "examples": []})
        entry["count"] += 1
        if len(entry["examples"]) < EXAMPLES_PER_REASON:
            entry["examples"].append(key)
        if self._file:
            self._file.write(json.dumps({"row": key, "reason": reason, "data": row}, default=str) + "\n")

    def close(self):
        if self._file:
            self._file.close()
            self._file = None


class _SqlSource:
    """Rows of the SQL store's table, ordered by client and id."""

    table = "api_billing_usage"

    def default_name(self):
        return f"sql:{self.table}"

    def count(self):
        cur = self._cursor()
        cur.execute(self._count_sql())
        return cur.fetchone()[0]

    def rows(self, skips):
        for row_id, client, ts, credits in self._iter():
            key = f"id={row_id}"
            try:
                cid = check_client(client)
                seconds = check_timestamp(ts)
                micro, rounded = check_credits(credits)
            except BadRow as bad:
                skips.add(bad.reason, key, [row_id, client, ts, credits])
                yield None
                continue
            yield key, cid, seconds, micro, rounded


def _check_table(table):
    if not _TABLE_RE.match(table):
        raise UsageError(f"--table: not a plain table name: {table!r}")
    return table


class SqliteSource(_SqlSource):
    kind = "sqlite"

    def __init__(self, path, table):
        self.path = os.path.abspath(path)
        self.table = _check_table(table)
        if not os.path.isfile(self.path):
            raise UsageError(f"--sqlite: no such file: {path}")
        try:
            self.conn = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True)
            self.conn.execute(f"SELECT id, client_id, \"timestamp\", credits FROM {self._quoted()} LIMIT 0")
        except sqlite3.Error as e:
            raise UsageError(f"--sqlite {path}: cannot read table {table!r}: {e}") from None

    def describe(self):
        return f"SQLite {self.path}, table {self.table}"

    def identity(self):
        return f"sqlite:{self.path}:{self.table}"

    def _quoted(self):
        return ".".join(f'"{part}"' for part in self.table.split("."))

    def _cursor(self):
        return self.conn.cursor()

    def _count_sql(self):
        return f"SELECT COUNT(*) FROM {self._quoted()}"

    def _iter(self):
        cur = self.conn.execute(
            f"SELECT id, client_id, \"timestamp\", credits FROM {self._quoted()} "
            "ORDER BY CAST(client_id AS TEXT), id")
        for row in cur:
            yield row

    def close(self):
        self.conn.close()


class PostgresSource(_SqlSource):
    kind = "postgres"

    def __init__(self, dsn, table):
        try:
            import psycopg2
            from psycopg2 import sql
        except ImportError:
            raise UsageError("--postgres needs psycopg2 (Debian: python3-psycopg2)") from None
        self._sql = sql
        self.dsn = dsn
        self.table = _check_table(table)
        try:
            self.conn = psycopg2.connect(dsn)
            self.conn.set_session(readonly=True)
            with self.conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT id, client_id, {}, credits FROM {} LIMIT 0").format(
                    sql.Identifier("timestamp"), self._ident()))
        except psycopg2.Error as e:
            raise UsageError(f"--postgres: cannot read table {table!r}: {str(e).strip()}") from None
        self.conn.rollback()

    def describe(self):
        params = self.conn.get_dsn_parameters()
        return (f"PostgreSQL {params.get('host', '')}:{params.get('port', '')}/{params.get('dbname', '')}, "
                f"table {self.table}")

    def identity(self):
        params = self.conn.get_dsn_parameters()
        return f"postgres:{params.get('host')}:{params.get('port')}:{params.get('dbname')}:{self.table}"

    def _ident(self):
        return self._sql.Identifier(*self.table.split("."))

    def _cursor(self):
        return self.conn.cursor()

    def _count_sql(self):
        return self._sql.SQL("SELECT COUNT(*) FROM {}").format(self._ident())

    def _iter(self):
        cur = self.conn.cursor(name="quotad_import")  # server-side: streams
        cur.itersize = 5000
        cur.execute(self._sql.SQL("SELECT id, client_id, {}, credits FROM {} ORDER BY client_id, id").format(
            self._sql.Identifier("timestamp"), self._ident()))
        try:
            for row in cur:
                yield row
        finally:
            cur.close()

    def close(self):
        self.conn.close()


def unwrap_extended_json(value):
    """Plain values for mongoexport's Extended JSON wrappers."""
    if isinstance(value, dict) and len(value) == 1:
        (tag, inner), = value.items()
        if tag in ("$numberLong", "$numberInt"):
            try:
                return int(str(inner))
            except ValueError:
                return str(inner)
        if tag == "$numberDouble":
            try:
                return float(str(inner))
            except ValueError:
                return str(inner)
        if tag == "$numberDecimal":
            return str(inner)
        if tag == "$oid":
            return str(inner)
        if tag == "$date":
            inner = unwrap_extended_json(inner)
            if isinstance(inner, (int, float)):
                return inner / 1000
            if isinstance(inner, str):
                from datetime import datetime
                try:
                    return datetime.fromisoformat(inner.replace("Z", "+00:00")).timestamp()
                except ValueError:
                    return inner
    return value


class MongoExportSource:
    """mongoexport JSON lines, staged in a temporary SQLite file so that rows
    can be read grouped by client without holding them all in memory."""

    kind = "mongo"

    def __init__(self, path):
        self.path = os.path.abspath(path)
        if not os.path.isfile(self.path):
            raise UsageError(f"--mongo-export: no such file: {path}")
        self._dir = tempfile.mkdtemp(prefix="quotad-import-")
        self.conn = sqlite3.connect(os.path.join(self._dir, "stage.db"))
        self.conn.execute("CREATE TABLE rows (k TEXT NOT NULL UNIQUE, line INTEGER, client TEXT, "
                          "ts INTEGER, micro INTEGER, rounded INTEGER)")
        self._lines = 0
        self._staged = False
        self._staged_skips = []

    def describe(self):
        return f"MongoDB export {self.path}"

    def identity(self):
        return f"mongo:{self.path}"

    def default_name(self):
        return "mongo"

    def count(self):
        if not self._staged:
            self._stage()
            self._staged = True
        return self._lines

    def _stage(self):
        insert = "INSERT OR IGNORE INTO rows VALUES (?, ?, ?, ?, ?, ?)"
        batch = []
        with open(self.path, "r", encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                text = line.strip()
                if not text:
                    continue
                self._lines += 1
                key = f"line={number}"
                try:
                    doc = json.loads(text)
                except ValueError:
                    self._staged_skips.append(("unparsable JSON line", key, text[:200]))
                    continue
                if not isinstance(doc, dict):
                    self._staged_skips.append(("not a JSON document", key, text[:200]))
                    continue
                if "_id" in doc:
                    key = f"_id={unwrap_extended_json(doc['_id'])}"
                try:
                    cid = check_client(unwrap_extended_json(doc.get("clientId")))
                    seconds = check_timestamp(unwrap_extended_json(doc.get("timestamp")))
                    micro, rounded = check_credits(unwrap_extended_json(doc.get("credits")))
                except BadRow as bad:
                    self._staged_skips.append((bad.reason, key, doc))
                    continue
                batch.append((key, number, cid, seconds, micro, int(rounded)))
                if len(batch) >= 5000:
                    self._insert(insert, batch)
                    batch = []
        self._insert(insert, batch)
        self.conn.commit()

    def _insert(self, insert, batch):
        before = self.conn.total_changes
        self.conn.executemany(insert, batch)
        if self.conn.total_changes - before != len(batch):
            # a document with an _id seen before: an export written twice
            for key, number, *_ in batch:
                row = self.conn.execute("SELECT line FROM rows WHERE k = ?", (key,)).fetchone()
                if row and row[0] != number:
                    self._staged_skips.append(("duplicate _id", f"line={number} {key}", None))

    def rows(self, skips):
        self.count()
        for reason, key, data in self._staged_skips:
            skips.add(reason, key, data)
            yield None
        for key, cid, seconds, micro, rounded in self.conn.execute(
                "SELECT k, client, ts, micro, rounded FROM rows ORDER BY client, k, line"):
            yield key, cid, seconds, micro, bool(rounded)

    def close(self):
        self.conn.close()
        import shutil
        shutil.rmtree(self._dir, ignore_errors=True)


# --- state file --------------------------------------------------------------------

class StateFile:
    """Batches already imported, one JSON line each (appended and synced as
    each batch completes, so an interruption loses nothing recorded)."""

    FORMAT = "quotad-import-state"

    def __init__(self, path, source_name, url, writable=True):
        self.path = path
        self.done = {}
        self.writable = writable
        self._file = None
        header = {"format": self.FORMAT, "version": 1, "source": source_name, "url": url}
        if os.path.exists(path):
            with open(path, "r", encoding="utf-8") as f:
                lines = f.read().split("\n")
            try:
                first = json.loads(lines[0])
            except (ValueError, IndexError):
                raise UsageError(f"--state-file {path}: not a quotad import state file") from None
            if not isinstance(first, dict) or first.get("format") != self.FORMAT:
                raise UsageError(f"--state-file {path}: not a quotad import state file")
            if first.get("source") != source_name or first.get("url") != url:
                raise UsageError(
                    f"--state-file {path} records an import of source {first.get('source')!r} into "
                    f"{first.get('url')}; this run imports {source_name!r} into {url}: "
                    "use another --state-file")
            for line in lines[1:]:
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    self.done[(entry["client"], entry["batch"])] = entry["import_id"]
                except (ValueError, KeyError, TypeError):
                    continue  # a line torn by a crash: that batch is sent again
            if writable and lines and lines[-1] != "":
                with open(path, "a", encoding="utf-8") as f:
                    f.write("\n")  # end a torn line
        elif writable:
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps(header) + "\n")
                f.flush()
                os.fsync(f.fileno())

    def record(self, client, batch, import_id, records, micro):
        self.done[(client, batch)] = import_id
        if not self.writable:
            return
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps({"client": client, "batch": batch, "import_id": import_id,
                                     "records": records, "credits": V.format_micro(micro)}) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self):
        if self._file:
            self._file.close()
            self._file = None


# --- progress ----------------------------------------------------------------------

class Progress:
    """A plain-text bar on a terminal; otherwise a line every `every` batches."""

    def __init__(self, stream, total, enabled=True, every=10):
        self.stream = stream
        self.total = total
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.every = max(1, every)
        self._last_draw = 0.0
        self._last_line_batches = 0
        self.rows = 0
        self.batches = 0
        self.clients = 0

    def _text(self):
        pct = 100.0 if not self.total else min(100.0, 100.0 * self.rows / self.total)
        return (f"{pct:5.1f}%  {self.rows}/{self.total} rows  {self.batches} batches  "
                f"{self.clients} clients")

    def update(self, rows, batches, clients):
        self.rows, self.batches, self.clients = rows, batches, clients
        if not self.enabled:
            return
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw >= 0.1:
                self._draw()
                self._last_draw = now
        elif batches - self._last_line_batches >= self.every:
            self._last_line_batches = batches
            self.stream.write(f"quotad import: {self._text()}\n")
            self.stream.flush()

    def _draw(self):
        width = 30
        filled = width if not self.total else int(width * min(1.0, self.rows / self.total))
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\rimporting [{bar}] {self._text()}")
        self.stream.flush()

    def finish(self):
        if not self.enabled:
            return
        if self.tty:
            self._draw()
            self.stream.write("\n")
        elif self.batches != self._last_line_batches or self.batches == 0:
            self.stream.write(f"quotad import: {self._text()}\n")
        self.stream.flush()


# --- the import ----------------------------------------------------------------------

def import_id_for(source_name, client, index, records):
    """The batch's id: the same rows in the same place give the same id."""
    h = hashlib.sha256()
    h.update(f"{source_name}\0{client}\0{index}\0{len(records)}\0".encode("utf-8", "surrogatepass"))
    for key, seconds, micro in records:
        h.update(f"{key}\0{seconds}\0{micro}\n".encode("utf-8", "surrogatepass"))
    return "imp1-" + h.hexdigest()[:40]


class _Fatal(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _problem_text(resp):
    doc = resp.json()
    if isinstance(doc, dict):
        return str(doc.get("detail") or doc.get("title") or resp.status)
    return resp.body[:200].decode("utf-8", "replace") or str(resp.status)


def _is_auth_failure(resp):
    """401, or a 403 whose problem type is .../forbidden (a wrong token)."""
    if resp.status == 401 or resp.header("WWW-Authenticate"):
        return True
    if resp.status != 403:
        return False
    doc = resp.json()
    kind = str(doc.get("type", "")) if isinstance(doc, dict) else ""
    return kind.endswith("/forbidden") or "token" in _problem_text(resp).lower()


class Importer:
    def __init__(self, source, transport, admin_token, state, source_name, batch_size=MAX_BATCH,
                 progress=None, max_batches=None, dry_run=False, retries=5, skips=None,
                 sleep=time.sleep):
        self.source = source
        self.transport = transport
        self.admin_token = admin_token
        self.state = state
        self.source_name = source_name
        self.batch_size = batch_size
        self.progress = progress
        self.max_batches = max_batches
        self.dry_run = dry_run
        self.retries = retries
        self.skips = skips or Skips()
        self.sleep = sleep
        # tallies
        self.rows_read = 0
        self.clients = set()
        self.records = 0
        self.micro = 0
        self.rounded = 0
        self.batches_total = 0
        self.sent = {"batches": 0, "records": 0, "micro": 0}
        self.earlier = {"batches": 0, "records": 0, "micro": 0}
        self.not_imported = {"batches": 0, "records": 0, "micro": 0}
        self.failed_clients = {}
        self.without_quotas = set()  # imported, but never given quotas on the server
        self.checked_clients = set()
        self.stopped = None  # why the run ended early

    def run(self):
        pending = []
        current = None
        next_index = {}
        for item in self.source.rows(self.skips):
            self.rows_read += 1
            if item is None:
                self._tick()
                continue
            key, client, seconds, micro, rounded = item
            if client != current:
                if pending:
                    self._flush(current, pending, next_index)
                    pending = []
                current = client
            self.clients.add(client)
            self.records += 1
            self.micro += micro
            self.rounded += int(rounded)
            pending.append((key, seconds, micro))
            if len(pending) >= self.batch_size:
                self._flush(current, pending, next_index)
                pending = []
            self._tick(count_only=True)
        if pending:
            self._flush(current, pending, next_index)
        self._tick()

    def _tick(self, count_only=False):
        if self.progress and not count_only:
            self.progress.update(self.rows_read, self.sent["batches"] + self.earlier["batches"],
                                 len(self.clients))

    def _flush(self, client, records, next_index):
        index = next_index.get(client, 0)
        next_index[client] = index + 1
        self.batches_total += 1
        count = len(records)
        micro = sum(r[2] for r in records)
        import_id = import_id_for(self.source_name, client, index, records)

        if client in self.failed_clients or self.stopped:
            self._tally(self.not_imported, count, micro)
            return
        prior = self.state.done.get((client, index)) if self.state else None
        if prior == import_id:
            self._tally(self.earlier, count, micro)
            self._tick()
            return
        if prior is not None:
            self.failed_clients[client] = (
                f"batch {index} differs from the batch imported by an earlier run: the source "
                "changed since; not imported again, to avoid counting rows twice")
            self._tally(self.not_imported, count, micro)
            return
        if self.dry_run:
            self._tally(self.sent, count, micro)
            self._tick()
            return
        if self.max_batches is not None and self.sent["batches"] >= self.max_batches:
            self.stopped = f"stopped after {self.max_batches} batches (--max-batches); rerun to continue"
            self._tally(self.not_imported, count, micro)
            return

        body = V.dumps({"import_id": import_id,
                        "records": [{"timestamp": s, "credits": V.micro_json(m)} for _, s, m in records]})
        path = "/v1/clients/" + quote(client, safe="") + "/usage:import"
        resp = self._send(path, body)
        if resp.status == 200:
            self.state.record(client, index, import_id, count, micro)
            doc = resp.json()
            if client not in self.checked_clients and isinstance(doc, dict) and not doc.get("quotas"):
                self.checked_clients.add(client)
                probe = self.transport.request("GET", "/v1/clients/" + quote(client, safe="") + "/quotas")
                if probe.status == 404:
                    self.without_quotas.add(client)
            self._tally(self.sent, count, micro)
            self._tick()
            return
        if _is_auth_failure(resp):
            raise _Fatal(EXIT_USAGE, f"quotad refused the admin token ({resp.status}: {_problem_text(resp)}); "
                                     "pass --admin-token or set QUOTAD_ADMIN_TOKEN")
        if resp.status in (403, 404):
            self.failed_clients[client] = (
                f"quotad answered {resp.status}: {_problem_text(resp)} (give the client its quotas, "
                "then rerun: finished batches are not sent again)")
        else:
            self.failed_clients[client] = f"batch {index} refused, quotad answered {resp.status}: {_problem_text(resp)}"
        self._tally(self.not_imported, count, micro)

    def _send(self, path, body):
        delay = 1.0
        for attempt in range(self.retries + 1):
            try:
                return self.transport.request("POST", path, body, token=self.admin_token, repeatable=True)
            except QuotadUnavailable as e:
                if attempt == self.retries:
                    raise _Fatal(EXIT_UNAVAILABLE, f"{e}; rerun to resume: finished batches are not sent again")
                wait = e.retry_after if e.retry_after else delay
                sys.stderr.write(f"\nquotad import: {e}; retrying in {wait:g} s\n")
                self.sleep(wait)
                delay = min(delay * 2, 30.0)

    @staticmethod
    def _tally(bucket, count, micro):
        bucket["batches"] += 1
        bucket["records"] += count
        bucket["micro"] += micro

    def summary(self):
        def out(bucket):
            return {"batches": bucket["batches"], "records": bucket["records"],
                    "credits": V.format_micro(bucket["micro"])}
        complete = not self.failed_clients and not self.stopped and not self.not_imported["batches"]
        return {
            "source": self.source.describe(),
            "source_name": self.source_name,
            "url": ",".join(self.transport.urls) if self.transport else None,
            "state_file": self.state.path if self.state else None,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "clients": len(self.clients),
            "records": self.records,
            "credits": V.format_micro(self.micro),
            "batches": self.batches_total,
            "imported": out(self.sent),
            "imported_earlier": out(self.earlier),
            "not_imported": out(self.not_imported),
            "failed_clients": dict(sorted(self.failed_clients.items())),
            "clients_without_quotas": sorted(self.without_quotas),  # among those sent in this run
            "skipped": {"rows": self.skips.total,
                        "reasons": dict(sorted(self.skips.reasons.items()))},
            "rounded": self.rounded,
            "stopped": self.stopped,
            "complete": complete,
        }


def format_summary(s):
    lines = [f"quotad import summary: {s['source']} -> {s['url']}" + ("  (dry run)" if s["dry_run"] else "")]
    lines.append(f"  rows read:          {s['rows_read']}")
    lines.append(f"  clients:            {s['clients']}")
    lines.append(f"  records:            {s['records']} ({s['credits']} credits) in {s['batches']} batches")
    verb = "would import" if s["dry_run"] else "imported now"
    lines.append(f"  {verb + ':':<19} {s['imported']['records']} records, {s['imported']['credits']} credits, "
                 f"{s['imported']['batches']} batches")
    if s["imported_earlier"]["batches"]:
        lines.append(f"  imported earlier:   {s['imported_earlier']['records']} records, "
                     f"{s['imported_earlier']['credits']} credits, {s['imported_earlier']['batches']} batches "
                     "(in the state file; not sent again)")
    if s["not_imported"]["batches"]:
        lines.append(f"  NOT imported:       {s['not_imported']['records']} records, "
                     f"{s['not_imported']['credits']} credits, {s['not_imported']['batches']} batches")
    for client, reason in s["failed_clients"].items():
        lines.append(f"    client {client!r}: {reason}")
    if s["clients_without_quotas"]:
        names = ", ".join(repr(c) for c in s["clients_without_quotas"][:10])
        more = ", ..." if len(s["clients_without_quotas"]) > 10 else ""
        lines.append(f"  without quotas:     {len(s['clients_without_quotas'])} of the clients sent in this run "
                     f"({names}{more}): history imported and kept, but quotad refuses their debits (403) "
                     "until they are given quotas")
    if s["stopped"]:
        lines.append(f"  {s['stopped']}")
    lines.append(f"  skipped bad rows:   {s['skipped']['rows']}")
    for reason, entry in s["skipped"]["reasons"].items():
        examples = ", ".join(entry["examples"])
        more = ", ..." if entry["count"] > len(entry["examples"]) else ""
        lines.append(f"    {reason}: {entry['count']} (e.g. {examples}{more})")
    if s["rounded"]:
        lines.append(f"  rounded:            {s['rounded']} rows had credits with more than 6 fractional "
                     "digits; rounded to the nearest 0.000001")
    if s["state_file"] and not s["dry_run"]:
        lines.append(f"  state file:         {s['state_file']}")
    lines.append("  result:             " + ("complete" if s["complete"] else "INCOMPLETE"))
    return "\n".join(lines) + "\n"


def _parser():
    p = argparse.ArgumentParser(
        prog="python3 -m quotad_client.importer",
        description="Import the Flask API-billing library's usage history into quotad.",
        epilog="The admin token may also come from $QUOTAD_ADMIN_TOKEN (preferred: command lines are "
               "visible to other users). Exit status: 0 complete, 1 incomplete, 2 bad arguments or "
               "source, 3 quotad unavailable, 130 interrupted.")
    src = p.add_argument_group("source (exactly one)").add_mutually_exclusive_group(required=True)
    src.add_argument("--sqlite", metavar="FILE", help="the SQL store's SQLite database file")
    src.add_argument("--postgres", metavar="DSN",
                     help='the SQL store\'s PostgreSQL database ("host=... dbname=... user=..." or a URI)')
    src.add_argument("--mongo-export", metavar="FILE",
                     help="mongoexport JSON lines of the MongoDB store's collection")
    p.add_argument("--table", default="api_billing_usage",
                   help="the SQL store's table (default: %(default)s)")
    p.add_argument("--url", default=os.environ.get("QUOTAD_URL", "http://127.0.0.1:8080"),
                   help="quotad node URL(s), comma-separated (default: $QUOTAD_URL or %(default)s)")
    p.add_argument("--admin-token", default=None, help="admin token (default: $QUOTAD_ADMIN_TOKEN)")
    p.add_argument("--batch-size", type=int, default=MAX_BATCH,
                   help=f"records per import call, 1 to {MAX_BATCH} (default: %(default)s)")
    p.add_argument("--state-file", metavar="FILE",
                   help="where finished batches are recorded (default: quotad-import-<hash>.state in "
                        "the current directory, derived from the source and URL)")
    p.add_argument("--source-name", metavar="NAME",
                   help="names the source in the import ids (default: sql:<table> or mongo); "
                        "keep it the same across reruns")
    p.add_argument("--max-batches", type=int, metavar="N",
                   help="send at most N batches in this run (a rerun continues)")
    p.add_argument("--dry-run", action="store_true", help="read and check the source; send nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
    p.add_argument("--progress-every", type=int, default=10, metavar="N",
                   help="when stderr is not a terminal: a progress line every N batches (default: %(default)s)")
    p.add_argument("--summary-json", metavar="FILE", help="also write the summary as JSON to FILE")
    p.add_argument("--skipped-rows", metavar="FILE", help="write every skipped row, with its reason, as JSON lines")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for quotad (default: %(default)s)")
    p.add_argument("--retries", type=int, default=5,
                   help="retries of a batch while quotad is unavailable (default: %(default)s)")
    return p


def main(argv=None, stdout=None, stderr=None):
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    if not 1 <= args.batch_size <= MAX_BATCH:
        parser.error(f"--batch-size must be between 1 and {MAX_BATCH}")
    if args.max_batches is not None and args.max_batches < 0:
        parser.error("--max-batches must not be negative")
    if args.retries < 0:
        parser.error("--retries must not be negative")

    source = state = skips = transport = None
    importer = None
    previous = signal.getsignal(signal.SIGTERM)
    in_main_thread = _main_thread()
    if in_main_thread:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            if args.sqlite:
                source = SqliteSource(args.sqlite, args.table)
            elif args.postgres:
                source = PostgresSource(args.postgres, args.table)
            else:
                source = MongoExportSource(args.mongo_export)
            source_name = args.source_name or source.default_name()
            transport = Transport(args.url, timeout=args.timeout, pool_size=1)
            url = ",".join(transport.urls)
            state_path = args.state_file or os.path.abspath(
                "quotad-import-" + hashlib.sha256(f"{source.identity()}\0{url}".encode()).hexdigest()[:12]
                + ".state")
            state = StateFile(state_path, source_name, url, writable=not args.dry_run)
            skips = Skips(args.skipped_rows)
            total = source.count()
        except (UsageError, ValueError, OSError) + _source_errors() as e:
            stderr.write(f"quotad import: {e}\n")
            return EXIT_USAGE
        admin_token = args.admin_token if args.admin_token is not None else os.environ.get("QUOTAD_ADMIN_TOKEN")
        progress = Progress(stderr, total, enabled=not args.no_progress, every=args.progress_every)
        importer = Importer(source, transport, admin_token, state, source_name,
                            batch_size=args.batch_size, progress=progress,
                            max_batches=args.max_batches, dry_run=args.dry_run,
                            retries=args.retries, skips=skips)
        code = EXIT_OK
        try:
            importer.run()
        except _Fatal as e:
            importer.stopped = e.message
            code = e.code
        except _source_errors() as e:
            importer.stopped = f"reading the source failed: {str(e).strip()}; rerun to continue"
            code = EXIT_USAGE
        except (KeyboardInterrupt, _Interrupted):
            importer.stopped = "interrupted; rerun to continue: finished batches are not sent again"
            code = EXIT_INTERRUPTED
        progress.finish()
        summary = importer.summary()
        stdout.write(format_summary(summary))
        stdout.flush()
        if args.summary_json:
            with open(args.summary_json, "w", encoding="utf-8") as f:
                json.dump(summary, f, indent=2)
                f.write("\n")
        if code == EXIT_OK and not summary["complete"]:
            code = EXIT_INCOMPLETE
        return code
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        for thing in (source, state, skips, transport):
            if thing is not None:
                thing.close()


def _source_errors():
    errors = [sqlite3.Error]
    try:
        import psycopg2
        errors.append(psycopg2.Error)
    except ImportError:
        pass
    return tuple(errors)


def _main_thread():
    import threading
    return threading.current_thread() is threading.main_thread()


def _on_sigterm(signum, frame):
    raise _Interrupted()


def main_exit():
    """Entry point of the quotad-import script."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
