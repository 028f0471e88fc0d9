"""Credits, datetimes and time zones as quotad reads and writes them.

Credits travel as exact decimals with at most 6 fractional digits (quotad
stores integer micro-credits). Datetimes travel as ISO-8601 with an offset
or as epoch seconds; a naive datetime is read in the client's zone.
"""
import datetime as _dt
import math
import os
from decimal import Decimal, InvalidOperation, ROUND_HALF_EVEN
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MICRO = 1_000_000
#: The largest amount quotad accepts in one input: 10^12 credits.
MAX_CREDITS = 10 ** 12
_MICRO_QUANTUM = Decimal("0.000001")


class RawJson:
    """A value written into a JSON body verbatim (an exact number)."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"RawJson({self.text!r})"


def dumps(value):
    """json.dumps that writes RawJson values verbatim (compact separators)."""
    import json

    if isinstance(value, RawJson):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def to_micro(value, what="credits", allow_unlimited=False):
    """Exact micro-credits of an amount given as int, Decimal, str or float.

    Floats are rounded to the nearest micro-credit (half to even): a float is
    already an approximation (0.1 + 0.2 is 0.30000000000000004), and the
    nearest micro-credit is what the caller meant. Decimals and strings must
    be exact: more than 6 fractional digits is a ValueError. Negative, NaN,
    infinite or too large amounts are ValueErrors; -1 passes only when
    allow_unlimited.
    """
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    if isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{what} must be a finite number, got {value!r}")
        dec = Decimal(repr(value)).quantize(_MICRO_QUANTUM, rounding=ROUND_HALF_EVEN)
    elif isinstance(value, (Decimal, str)):
        try:
            dec = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValueError(f"{what} is not a decimal number: {value!r}") from None
        if not dec.is_finite():
            raise ValueError(f"{what} must be a finite number, got {value!r}")
        if dec != dec.quantize(_MICRO_QUANTUM, rounding=ROUND_HALF_EVEN):
            raise ValueError(f"{what} may have at most 6 fractional digits, got {value!r}")
    else:
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    if allow_unlimited and dec == -1:
        return -MICRO
    if dec < 0:
        raise ValueError(f"{what} must not be negative, got {value!r}")
    if dec > MAX_CREDITS:
        raise ValueError(f"{what} must be at most {MAX_CREDITS}, got {value!r}")
    return int(dec * MICRO)


def format_micro(micro):
    """Shortest exact decimal text of an amount in micro-credits."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")


def micro_json(micro):
    """An amount for a JSON body: a number when a double carries it exactly
    (at most 15 significant digits), else a decimal string."""
    text = format_micro(micro)
    digits = len(text.replace("-", "").replace(".", "").lstrip("0"))
    if digits <= 15:
        return RawJson(text)
    return text


def to_number(value, exact=False):
    """A number parsed from quotad's JSON (int or Decimal) or header text as
    the caller wants it: Decimal when exact, else int when integral, float
    otherwise (what the Flask library returned)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = Decimal(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if exact:
        return value if isinstance(value, Decimal) else Decimal(value)
    if isinstance(value, int):
        return value
    if value == value.to_integral_value():
        return int(value)
    return float(value)


# --- time zones -------------------------------------------------------------

def local_zone_name():
    """The IANA name of this machine's zone: $TZ, /etc/localtime, /etc/timezone; UTC."""
    candidates = []
    tz = os.environ.get("TZ")
    if tz:
        tz = tz.lstrip(":")
        if "zoneinfo/" in tz:
            tz = tz.split("zoneinfo/", 1)[1]
        candidates.append(tz)
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    try:
        with open("/etc/timezone", encoding="utf-8") as f:
            candidates.append(f.read().strip())
    except OSError:
        pass
    for name in candidates:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"


def resolve_zone(zone):
    """(IANA name, ZoneInfo) for a name, a ZoneInfo, datetime.timezone.utc or None (local)."""
    if zone is None:
        name = local_zone_name()
    elif isinstance(zone, str):
        name = zone
    elif zone is _dt.timezone.utc:
        name = "UTC"
    elif getattr(zone, "key", None):
        name = zone.key
    else:
        raise ValueError(f"time_zone must be an IANA zone name, got {zone!r}")
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def aware(moment, zone):
    """An aware datetime: naive ones are read in zone."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return moment.replace(tzinfo=zone)
    return moment


def to_iso(moment, zone):
    """ISO-8601 with offset, second resolution; a date means its midnight."""
    if isinstance(moment, _dt.date) and not isinstance(moment, _dt.datetime):
        moment = _dt.datetime.combine(moment, _dt.time())
    if not isinstance(moment, _dt.datetime):
        raise TypeError(f"start_date must be a datetime, not {type(moment).__name__}")
    return aware(moment, zone).replace(microsecond=0).isoformat()


def to_epoch(moment, zone, bound):
    """Epoch seconds of a range bound (datetime, or epoch number).

    bound is "start" or "end": ranges are inclusive at both ends at second
    resolution, so a start rounds up and an end rounds down."""
    if moment is None:
        return None
    if isinstance(moment, bool):
        raise TypeError("a range bound must be a datetime or epoch seconds")
    if isinstance(moment, _dt.datetime):
        seconds = aware(moment, zone).timestamp()
    elif isinstance(moment, (int, float, Decimal)):
        seconds = moment
        if isinstance(seconds, float) and not math.isfinite(seconds):
            raise ValueError("a range bound must be finite")
    else:
        raise TypeError(f"a range bound must be a datetime or epoch seconds, not {type(moment).__name__}")
    return math.ceil(seconds) if bound == "start" else math.floor(seconds)


def from_epoch(seconds, zone):
    """A naive datetime in zone for epoch seconds (the Flask library's style)."""
    if seconds is None:
        return None
    return _dt.datetime.fromtimestamp(int(seconds), tz=zone).replace(tzinfo=None)
