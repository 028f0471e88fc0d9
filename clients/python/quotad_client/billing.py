"""The Flask library's public API, answered by a quotad cluster."""
import logging
import os
from urllib.parse import quote, urlencode

from . import _values as V
from ._http import Transport
from .errors import QuotadBadRequest, QuotadError, QuotadUnavailable, QuotaException

try:  # Flask support only when Flask is there
    import flask as _flask
except ImportError:  # pragma: no cover - exercised where Flask is missing
    _flask = None

log = logging.getLogger("quotad_client")

QUOTA_UNLIMITED = -1
UNKNOWN_CLIENT_MESSAGE = "You do not have any available quota"

#: Headers of quotad's debit answers that a Flask response passes on.
RATE_LIMIT_HEADERS = ("X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy",
                      "RateLimit", "Retry-After")


class QuotaDuration:
    SECOND = "SECOND"
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


QUOTA_DURATION_SORTING = [QuotaDuration.SECOND, QuotaDuration.MINUTE, QuotaDuration.HOUR,
                          QuotaDuration.DAY, QuotaDuration.WEEK, QuotaDuration.MONTH,
                          QuotaDuration.YEAR]


class QuotaDefinition:
    """One quota: credit_limit credits per duration window, windows counted
    from start_date. A naive start_date is read in the ApiBilling's zone (or
    in time_zone, when given here: an IANA name)."""

    def __init__(self, duration_type, credit_limit, start_date, time_zone=None):
        duration = str(duration_type).upper()
        if duration not in QUOTA_DURATION_SORTING:
            raise ValueError(f"Unknown duration type {duration_type!r}; use one of "
                             + ", ".join(QUOTA_DURATION_SORTING))
        V.to_micro(credit_limit, "credit_limit", allow_unlimited=True)  # validates
        if time_zone is not None:
            V.resolve_zone(time_zone)
        self.duration = duration
        self.credits = credit_limit
        self.start_date = start_date
        self.time_zone = time_zone

    # the constructor's names, for readers of either spelling
    @property
    def duration_type(self):
        return self.duration

    @property
    def credit_limit(self):
        return self.credits

    def __repr__(self):
        return (f"QuotaDefinition(duration_type={self.duration!r}, credit_limit={self.credits!r}, "
                f"start_date={self.start_date!r}"
                + (f", time_zone={self.time_zone!r})" if self.time_zone else ")"))

    def __eq__(self, other):
        return isinstance(other, QuotaDefinition) and (
            self.duration, self.credits, self.start_date, self.time_zone) == (
            other.duration, other.credits, other.start_date, other.time_zone)

    def __hash__(self):
        return hash((self.duration, self.start_date))


class Usage:
    """Credits used by a client on one day (the usage stores' record)."""

    def __init__(self, client_id=None, timestamp=0, credits=0, date=None):
        self.client_id = client_id
        self.timestamp = timestamp  # the day's start, epoch seconds
        self.credits = credits
        self.date = date            # "2027-01-31", the local date

    def to_json(self):
        result = {"timestamp": self.timestamp, "credits": self.credits}
        if self.client_id is not None:
            result["clientId"] = self.client_id
        return result

    @staticmethod
    def from_json(json):
        return Usage(json.get("clientId"), json.get("timestamp", 0), json.get("credits", 0))

    def __repr__(self):
        return f"Usage(client_id={self.client_id!r}, timestamp={self.timestamp!r}, credits={self.credits!r})"

    def __eq__(self, other):
        return isinstance(other, Usage) and (self.client_id, self.timestamp, self.credits) == (
            other.client_id, other.timestamp, other.credits)


class DebitResult:
    """What a successful (or fail-open) debit answered.

    allowed is always True (refusals raise); credits is what the debit used;
    remaining / renew describe the lowest quota after it (None for a client
    without limits); fail_open is True when quotad could not be reached and
    the debit was let through unrecorded; headers are the rate-limit headers."""

    __slots__ = ("allowed", "credits", "remaining", "renew", "reset", "replayed", "fail_open",
                 "headers")

    def __init__(self, credits, remaining, renew, reset, replayed=False, fail_open=False, headers=None):
        self.allowed = True
        self.credits = credits
        self.remaining = remaining
        self.renew = renew
        self.reset = reset
        self.replayed = replayed
        self.fail_open = fail_open
        self.headers = headers or {}

    def __repr__(self):
        return (f"DebitResult(credits={self.credits!r}, remaining={self.remaining!r}, "
                f"renew={self.renew!r}, fail_open={self.fail_open!r})")


def _client_path(client_id, suffix=""):
    if client_id is None:
        raise ValueError("client_id must not be None")
    cid = str(client_id)
    if not cid or len(cid.encode("utf-8")) > 256:
        raise ValueError("client_id must be 1 to 256 bytes of UTF-8")
    return "/v1/clients/" + quote(cid, safe="") + suffix


class ApiBilling:
    """Quota checks and usage for API clients, kept by a quotad cluster.

    base_url: one node's URL, or several (a list, or comma-separated): any
        node answers for any client; a node that cannot be reached is skipped.
    admin_token: for update_client_quotas, delete_client_usage, delete_client
        and imports (default: $QUOTAD_ADMIN_TOKEN).
    gateway_token: for debits (default: $QUOTAD_GATEWAY_TOKEN).
    timeout: seconds to connect and to wait for each answer.
    pool_size: keep-alive connections kept per node.
    time_zone: IANA zone in which naive datetimes are read and returned
        (default: this machine's zone, as the Flask library used).
    fail_open: when quotad cannot be reached (or answers 503), let debits
        through (logged as warnings) instead of raising QuotadUnavailable.
    exact_numbers: return amounts as Decimal instead of int/float.
    """

    def __init__(self, base_url="http://127.0.0.1:8080", admin_token=None, gateway_token=None,
                 timeout=10.0, pool_size=8, time_zone=None, fail_open=False, exact_numbers=False,
                 ssl_context=None):
        self.zone_name, self.zone = V.resolve_zone(time_zone)
        self.admin_token = admin_token if admin_token is not None else os.environ.get("QUOTAD_ADMIN_TOKEN")
        self.gateway_token = (gateway_token if gateway_token is not None
                              else os.environ.get("QUOTAD_GATEWAY_TOKEN"))
        self.fail_open = bool(fail_open)
        self.exact_numbers = bool(exact_numbers)
        self.transport = Transport(base_url, timeout=timeout, pool_size=pool_size,
                                   ssl_context=ssl_context)

    # --- lifecycle ------------------------------------------------------------

    def close(self):
        """Closes the pooled connections (the object stays usable)."""
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- quotas -----------------------------------------------------------------

    def update_client_quotas(self, client_id, quota_definitions):
        """Sets a client's quotas (replacing earlier ones; usage already
        recorded in the new windows counts against them). An empty list makes
        the client known and unlimited. ValueError on a duplicate duration,
        before anything is sent."""
        used = set()
        quotas = []
        for q in quota_definitions:
            if not isinstance(q, QuotaDefinition):
                raise TypeError(f"quota_definitions must hold QuotaDefinition objects, not {type(q).__name__}")
            if q.duration in used:
                raise ValueError(f"Duplicate duration type {q.duration} detected.")
            used.add(q.duration)
            zone_name, zone = (V.resolve_zone(q.time_zone) if q.time_zone is not None
                               else (self.zone_name, self.zone))
            quotas.append({
                "duration": q.duration,
                "credit_limit": V.micro_json(V.to_micro(q.credits, "credit_limit", allow_unlimited=True)),
                "start_date": V.to_iso(q.start_date, zone),
                "time_zone": zone_name,
            })
        path = _client_path(client_id, "/quotas")
        resp = self._call("PUT", path, {"quotas": quotas}, token=self.admin_token)
        self._expect(resp, (200,))

    def get_client_quotas(self, client_id):
        """quotad's status document for a client (dict with quotas, lowest),
        or None for a client that was never given quotas."""
        resp = self._call("GET", _client_path(client_id, "/quotas"))
        if resp.status == 404:
            return None
        self._expect(resp, (200,))
        return resp.json()

    def delete_client(self, client_id):
        """Forgets a client: definitions, windows and usage history."""
        resp = self._call("DELETE", _client_path(client_id), token=self.admin_token)
        self._expect(resp, (200, 204, 404))

    def get_lowest_quota(self, client_id):
        """(remaining, renew) of the quota with the fewest remaining credits;
        remaining is QUOTA_UNLIMITED (-1) when no quota is limited; renew is a
        naive datetime in the client's zone. (None, None) for a client without
        quotas (unknown, or given an empty list)."""
        doc = self.get_client_quotas(client_id)
        lowest = (doc or {}).get("lowest")
        if not lowest:
            return None, None
        return (V.to_number(lowest.get("remaining"), self.exact_numbers),
                V.from_epoch(lowest.get("reset"), self.zone))

    # --- debits -----------------------------------------------------------------

    def track_client_usage(self, client_id, credits_used=1, use_abort=True, idempotency_key=None):
        """Debits credits_used from every quota of the client, or refuses.

        Refused (429: too few credits; 403: the client has no quotas): inside
        a Flask request with use_abort, aborts with quotad's answer (status,
        problem+json body, rate-limit headers); otherwise raises
        QuotaException. Unreachable: see fail_open (QuotadUnavailable, which
        inside Flask with use_abort becomes a 503 answer).

        idempotency_key: repeating the key of a successful debit within
        quotad's retention period debits nothing more (and makes the debit
        safe to resend after a dropped connection)."""
        path = _client_path(client_id, "/usage")
        micro = V.to_micro(credits_used, "credits_used")
        body = {"credits": V.micro_json(micro)}
        if idempotency_key is not None:
            body["idempotency_key"] = str(idempotency_key)
        try:
            resp = self.transport.request("POST", path, V.dumps(body), token=self.gateway_token,
                                          repeatable=idempotency_key is not None)
        except QuotadUnavailable as e:
            if self.fail_open:
                log.warning("quotad unavailable; debit of %s credits for client %r let through "
                            "(fail_open): %s", V.format_micro(micro), str(client_id), e)
                return DebitResult(V.to_number(V.format_micro(micro), self.exact_numbers),
                                   None, None, None, fail_open=True)
            if use_abort and _in_flask_request():
                _flask.abort(_unavailable_response(e))
            raise
        if resp.status == 200:
            doc = resp.json() or {}
            headers = _pick_headers(resp)
            _remember_headers(client_id, headers)
            reset = doc.get("reset")
            return DebitResult(V.to_number(doc.get("credits"), self.exact_numbers),
                               V.to_number(doc.get("remaining"), self.exact_numbers),
                               V.from_epoch(reset, self.zone), reset,
                               replayed=resp.header("Idempotent-Replayed") == "true", headers=headers)
        if resp.status == 429 or (resp.status == 403 and _is_unknown_client(resp)):
            exc = self._quota_exception(resp)
            if use_abort and _in_flask_request():
                _flask.abort(_passthrough_response(resp))
            raise exc
        self._expect(resp, (200,))

    def _quota_exception(self, resp):
        problem = resp.json() if isinstance(resp.json(), dict) else {}
        headers = _pick_headers(resp)
        retry_after = resp.header("Retry-After")
        retry_after = int(retry_after) if retry_after and retry_after.isdigit() else None
        if resp.status == 403:
            return QuotaException(custom_msg=problem.get("detail") or UNKNOWN_CLIENT_MESSAGE,
                                  status_code=403, headers=headers, body=resp.body,
                                  problem=problem)
        remaining = resp.header("X-RateLimit-Remaining", problem.get("quota_remaining"))
        reset = resp.header("X-RateLimit-Reset")
        return QuotaException(V.to_number(remaining, self.exact_numbers),
                              V.from_epoch(int(reset), self.zone) if reset else None,
                              status_code=429, headers=headers, body=resp.body, problem=problem,
                              retry_after=retry_after)

    # --- responses --------------------------------------------------------------

    def rate_limit_headers(self, client_id, exception=None):
        """The headers create_response_with_header adds, as a dict (for any
        web framework): X-RateLimit-Remaining / X-RateLimit-Reset of the
        lowest quota, plus the IETF RateLimit fields when quotad gave them for
        this request's debit. Empty for a client without quotas, and when
        quotad cannot be reached (logged)."""
        if exception is not None:
            if getattr(exception, "headers", None):
                return dict(exception.headers)
            if exception.quota_remaining is None:
                return {}
            headers = {"X-RateLimit-Remaining": _header_number(exception.quota_remaining)}
            if exception.quota_renew is not None:
                headers["X-RateLimit-Reset"] = str(round(V.aware(exception.quota_renew, self.zone).timestamp()))
            return headers
        remembered = _remembered_headers(client_id)
        if remembered is not None:
            return {k: v for k, v in remembered.items() if k != "Retry-After"}
        try:
            doc = self.get_client_quotas(client_id)
        except QuotadUnavailable as e:
            log.warning("quotad unavailable; response for client %r sent without rate-limit "
                        "headers: %s", str(client_id), e)
            return {}
        lowest = (doc or {}).get("lowest")
        if not lowest:
            return {}
        return {"X-RateLimit-Remaining": _header_number(lowest.get("remaining")),
                "X-RateLimit-Reset": str(int(lowest.get("reset")))}

    def create_response_with_header(self, client_id, response_body, status_code=200, exception=None):
        """A Flask response of response_body (a Response, or anything Flask
        can turn into one) with status_code and the rate-limit headers."""
        if _flask is None:
            raise RuntimeError("create_response_with_header needs Flask; use rate_limit_headers() "
                               "with other frameworks")
        response = _flask.make_response(response_body)
        response.status_code = status_code
        for name, value in self.rate_limit_headers(client_id, exception).items():
            response.headers[name] = value
        return response

    # --- usage ------------------------------------------------------------------

    def get_total_usage(self, client_id, start=None, end=None, *, start_datetime=None, end_datetime=None):
        """Credits used between start and end (datetimes or epoch seconds,
        both inclusive, either may be None)."""
        doc = self._usage(client_id, start if start is not None else start_datetime,
                          end if end is not None else end_datetime, daily=False)
        if doc is None:
            return 0
        return V.to_number(doc.get("total", 0), self.exact_numbers)

    def get_daily_usage(self, client_id, start=None, end=None, *, start_datetime=None, end_datetime=None):
        """One Usage per day (in the client's zone) that had usage, sorted."""
        doc = self._usage(client_id, start if start is not None else start_datetime,
                          end if end is not None else end_datetime, daily=True)
        if doc is None:
            return []
        return [Usage(str(client_id), int(day["timestamp"]),
                      V.to_number(day["credits"], self.exact_numbers), day.get("date"))
                for day in doc.get("days", [])]

    def delete_client_usage(self, client_id, start_datetime=None, end_datetime=None, *, start=None, end=None):
        """Deletes the usage recorded between the bounds (inclusive; None:
        open) and recomputes the current windows from what is left."""
        query = self._range(start_datetime if start_datetime is not None else start,
                            end_datetime if end_datetime is not None else end)
        path = _client_path(client_id, "/usage") + (("?" + urlencode(query)) if query else "")
        resp = self._call("DELETE", path, token=self.admin_token)
        self._expect(resp, (200, 204, 404))

    @property
    def usage_store(self):
        """The usage-store interface (get_total_usage, get_daily_usage,
        delete_client_usage) over quotad's ledger."""
        return _UsageStoreView(self)

    def _range(self, start, end):
        query = {}
        lo = V.to_epoch(start, self.zone, "start")
        hi = V.to_epoch(end, self.zone, "end")
        if lo is not None:
            query["from"] = lo
        if hi is not None:
            query["to"] = hi
        return query

    def _usage(self, client_id, start, end, daily):
        query = self._range(start, end)
        if daily:
            query["granularity"] = "day"
            query["time_zone"] = self.zone_name
        path = _client_path(client_id, "/usage") + (("?" + urlencode(query)) if query else "")
        resp = self._call("GET", path)
        if resp.status == 404:
            return None
        self._expect(resp, (200,))
        return resp.json() or {}

    # --- plumbing ---------------------------------------------------------------

    def _call(self, method, path, body=None, token=None):
        data = V.dumps(body) if body is not None else None
        return self.transport.request(method, path, data, token=token, repeatable=True)

    @staticmethod
    def _expect(resp, ok):
        if resp.status in ok:
            return
        problem = resp.json() if isinstance(resp.json(), dict) else None
        if resp.status in (400, 413, 422):
            raise QuotadBadRequest(resp.status, problem)
        raise QuotadError(resp.status, problem)


class _UsageStoreView:
    def __init__(self, billing):
        self._billing = billing

    def get_total_usage(self, client_id, start_datetime=None, end_datetime=None):
        return self._billing.get_total_usage(client_id, start_datetime, end_datetime)

    def get_daily_usage(self, client_id, start_datetime=None, end_datetime=None):
        return self._billing.get_daily_usage(client_id, start_datetime, end_datetime)

    def delete_client_usage(self, client_id, start_datetime=None, end_datetime=None):
        return self._billing.delete_client_usage(client_id, start_datetime, end_datetime)


# --- Flask glue -----------------------------------------------------------------

def _in_flask_request():
    return _flask is not None and _flask.has_request_context()


def _pick_headers(resp):
    picked = {}
    for name in RATE_LIMIT_HEADERS:
        value = resp.header(name)
        if value is not None:
            picked[name] = value
    return picked


def _remember_headers(client_id, headers):
    if _in_flask_request():
        store = getattr(_flask.g, "_quotad_debit_headers", None)
        if store is None:
            store = {}
            _flask.g._quotad_debit_headers = store
        store[str(client_id)] = headers


def _remembered_headers(client_id):
    if not _in_flask_request():
        return None
    store = getattr(_flask.g, "_quotad_debit_headers", None)
    if not store:
        return None
    return store.get(str(client_id))


def _passthrough_response(resp):
    headers = _pick_headers(resp)
    return _flask.Response(resp.body, status=resp.status, headers=headers,
                           content_type=resp.header("Content-Type", "application/problem+json"))


def _unavailable_response(exc):
    import json

    body = json.dumps({"type": "about:blank", "title": "Service Unavailable", "status": 503,
                       "detail": "The quota service cannot be reached; try again later."})
    headers = {"Retry-After": str(exc.retry_after if exc.retry_after is not None else 1)}
    return _flask.Response(body, status=503, headers=headers, content_type="application/problem+json")


def _header_number(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return V.format_micro(V.to_micro(value)) if value >= 0 else str(int(value))
    return str(value)


def _is_unknown_client(resp):
    """A 403 on a debit is either a client without quotas (problem type
    .../no-quota) or a token that does not grant debits (.../forbidden)."""
    if resp.header("WWW-Authenticate"):
        return False
    problem = resp.json() if isinstance(resp.json(), dict) else {}
    kind = str(problem.get("type", ""))
    if kind.endswith("/no-quota"):
        return True
    if kind.endswith("/forbidden"):
        return False
    return "token" not in str(problem.get("detail", "")).lower()
