"""quotad_client: the Flask API-billing library's API, answered by quotad.

    from quotad_client import ApiBilling, QuotaDuration, QuotaDefinition

Only the standard library is needed; Flask is used when it is importable.
"""
from .billing import (ApiBilling, DebitResult, QuotaDefinition, QuotaDuration,
                      QUOTA_DURATION_SORTING, QUOTA_UNLIMITED, Usage)
from .errors import QuotadBadRequest, QuotadError, QuotadUnavailable, QuotaException

__all__ = [
    "ApiBilling", "DebitResult", "QuotaDefinition", "QuotaDuration", "QUOTA_DURATION_SORTING",
    "QUOTA_UNLIMITED", "Usage", "QuotaException", "QuotadError", "QuotadBadRequest",
    "QuotadUnavailable",
]

__version__ = "0.1.0"
