"""JSON logs with python-json-logger, configured with logging.config.dictConfig: the
root logger has the one handler, uvicorn's loggers hand their records to it."""

import logging
import logging.config

from pythonjsonlogger.json import JsonFormatter

from app.core import context


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()
        record.request_id = ctx.request_id if ctx else None
        record.trace_id = ctx.trace.trace_id if ctx else None
        return True


def setup_logging(level: str = "INFO") -> None:
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestContextFilter}},
        "formatters": {"json": {
            "()": JsonFormatter,
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
        }},
        "handlers": {"stdout": {
            "class": "logging.StreamHandler", "stream": "ext://sys.stdout",
            "formatter": "json", "filters": ["request"],
        }},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    })  # fmt: skip
