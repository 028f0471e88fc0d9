"""Exceptions raised by the client.

    Exception
    ├── QuotaException            a debit was refused (429) or the client is unknown (403)
    │   └── QuotadUnavailable     the cluster could not be reached or answered 503
    └── QuotadError               any other answer quotad gave that is not a success
        ├── QuotadBadRequest      400/413: also a ValueError
        └── QuotadUnavailable     (also a QuotadError)

QuotadUnavailable is a QuotaException so that code written for the Flask
library, which catches QuotaException around track_client_usage, refuses the
call (fails closed) instead of crashing. Catch QuotadUnavailable first where
the two must be told apart.
"""


class QuotaException(Exception):
    """Not enough credits (or no quota at all) for a debit.

    quota_remaining and quota_renew describe the quota that refused the debit:
    the violated one with the fewest remaining credits. quota_renew is a naive
    datetime in the client's zone, as the Flask library gave it.

    Raised by quotad_client, it also carries what quotad answered:
    status_code (429 or 403), headers (the rate-limit headers: X-RateLimit-*,
    RateLimit*, Retry-After), body (the problem+json bytes), problem (parsed)
    and retry_after (seconds or None).
    """

    def __init__(self, quota_remaining=None, quota_renew=None, custom_msg=None, *,
                 status_code=None, headers=None, body=None, problem=None, retry_after=None):
        self.quota_remaining = quota_remaining
        self.quota_renew = quota_renew
        self.custom_msg = custom_msg
        self.status_code = status_code
        self.headers = dict(headers or {})
        self.body = body
        self.problem = problem
        self.retry_after = retry_after
        Exception.__init__(self, self.__str__())

    def __str__(self):
        if self.custom_msg is not None:
            return str(self.custom_msg)
        renew = self.quota_renew.strftime("%Y-%m-%d %H:%M:%S") if self.quota_renew is not None else None
        return f"Quota remaining: {self.quota_remaining} | Quota renews: {renew}"

    def __reduce__(self):
        return (_rebuild, (type(self), self.__dict__))


def _rebuild(cls, state):
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    Exception.__init__(obj, obj.__str__())
    return obj


class QuotadError(Exception):
    """quotad answered with an error: status (HTTP status), problem (the
    problem+json document as a dict, or None), detail (its text)."""

    def __init__(self, status, problem=None, message=None):
        self.status = status
        self.problem = problem if isinstance(problem, dict) else None
        self.detail = (self.problem or {}).get("detail") or (self.problem or {}).get("title")
        self.message = message or f"quotad answered {status}" + (f": {self.detail}" if self.detail else "")
        Exception.__init__(self, self.message)

    def __str__(self):
        return self.message

    def __reduce__(self):
        return (_rebuild_error, (type(self), self.__dict__))


def _rebuild_error(cls, state):
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    Exception.__init__(obj, obj.message)
    return obj


class QuotadBadRequest(QuotadError, ValueError):
    """quotad refused the request's content (400, 413): a bad id, date, zone or number."""


class QuotadUnavailable(QuotaException, QuotadError):
    """The cluster could not be reached, timed out, or answered 503.

    status: 502/503/504 when a server answered, None when none did.
    retry_after: seconds from Retry-After, when given.
    outcome_unknown: True when the request was sent but no answer came back
    (a timeout or a dropped connection): a debit may or may not have been
    applied. A 503 means it was not applied (outcome_unknown False).
    """

    def __init__(self, message, status=None, retry_after=None, outcome_unknown=False, problem=None):
        self.status = status
        self.problem = problem if isinstance(problem, dict) else None
        self.detail = (self.problem or {}).get("detail")
        self.message = message
        self.outcome_unknown = outcome_unknown
        QuotaException.__init__(self, custom_msg=message, status_code=status,
                                problem=self.problem, retry_after=retry_after)

    def __str__(self):
        return self.message
