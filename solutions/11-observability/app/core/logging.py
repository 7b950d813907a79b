"""Logs as one JSON object per line (what a log shipper can index), each line tagged
with the request it belongs to."""

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from app.core import context

# The attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class RequestContextFilter(logging.Filter):
    """Adds the current request's id and trace to every record (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()
        record.request_id = ctx.request_id if ctx else None
        record.trace_id = ctx.trace.trace_id if ctx else None
        record.span_id = ctx.trace.span_id if ctx else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            # The whole traceback inside the one line, not a line per frame.
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, default=str)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())

    # One handler, on the root logger, and every logger reaches it: ours, uvicorn's and
    # any library's. uvicorn gave its loggers plain-text handlers of their own before it
    # imported this app; we take them over.
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # Our middleware writes the access line, with the route and the request id.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings become records too, not raw stderr
