"""Logging of `citeqa serve`: uvicorn's messages as usual, and one JSON line per request on stdout."""

from __future__ import annotations

import copy
import json
import logging
import time
from typing import Any


class JsonFormatter(logging.Formatter):
    """A record's ``fields`` as one JSON object, after the time and level, so log tools need no parsing rules."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line: ``ts`` and ``level``, then its ``fields`` (else its message)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        fields = getattr(record, "fields", {"message": record.getMessage()})
        return json.dumps({"ts": stamp, "level": record.levelname.lower(), **fields}, ensure_ascii=False)


def log_config() -> dict[str, Any]:
    """uvicorn's configuration with its own access log replaced by the JSON request log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["json"] = {"()": JsonFormatter}
    config["handlers"]["requests"] = {
        "formatter": "json",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["citeqa"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config["loggers"]["citeqa.access"] = {"handlers": ["requests"], "level": "INFO", "propagate": False}
    return config
