"""What the portal's server writes to its logs: no private token, and no ballot request at all.

A private link is a bearer secret (whoever holds it submits and votes for the unit), so every
line of uvicorn's access and error logs, and of the app's own loggers, is masked before it is
written. A ballot request is not logged at all: the log must not tell in what order, or when,
the units voted.
"""

import logging
import re
from typing import Any

from uvicorn.logging import AccessFormatter, DefaultFormatter

MASK = "***"
# The path segment that carries a token, even a mistyped one (it is still most of a secret).
_PRIVATE_SEGMENT = re.compile(r"(/(?:don-vi|calendars/private)/)[^/?#\s\"']+", re.IGNORECASE)
# A token itself (models.access: 32 bytes, unpadded base64url), wherever it appears.
_TOKEN = re.compile(r"(?<![\w-])[\w-]{43}(?![\w-])", re.ASCII)
_BALLOT_PATH = re.compile(r"/bo-phieu(?:[/?#]|$)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every private token, and every path segment that routes by token, masked."""
    return _TOKEN.sub(MASK, _PRIVATE_SEGMENT.sub(rf"\g<1>{MASK}", text))


class RedactingFormatter(DefaultFormatter):
    """uvicorn's formatter for the error log and the app's loggers, masked (tracebacks too)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingAccessFormatter(AccessFormatter):
    """uvicorn's access-log formatter, masked."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class DropBallotRequests(logging.Filter):
    """Leaves out every line that names a ballot address (the access line of a ballot, or a
    WebSocket attempt on that address, which uvicorn reports in its error log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(isinstance(arg, str) and _BALLOT_PATH.search(arg) for arg in args)


def log_config() -> dict[str, Any]:
    """uvicorn's default logging (same formats and streams) with every line masked and ballot
    requests dropped; the app's own warnings go through the same handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {
                "()": RedactingFormatter,
                "fmt": "%(levelprefix)s %(message)s",
                "use_colors": None,
            },
            "access": {
                "()": RedactingAccessFormatter,
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
            },
        },
        "filters": {"no_ballots": {"()": DropBallotRequests}},
        "handlers": {
            "default": {
                "formatter": "default",
                "filters": ["no_ballots"],
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "formatter": "access",
                "filters": ["no_ballots"],
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
