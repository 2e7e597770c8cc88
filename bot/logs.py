"""Logging for `studybot serve`: plain text or one JSON object per line, secrets redacted.

`STUDYBOT_LOG_FORMAT=json` gives one JSON object per line (time, level, logger, message, and the
traceback as `exc_info` when there is one), for log shippers. Either way, Slack tokens and
passwords in URLs are masked in every line, whoever logged them; request bodies are never
logged by our code (see `bot.slack.asgi`).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
LOG_FORMATS = ("text", "json")
HANDLER_NAME = "studybot"

_SECRETS = (
    (re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+"), r"\1-***"),
    (re.compile(r"(\w+://[^:/@\s]+):[^@\s]+@"), r"\1:***@"),  # scheme://user:password@
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1***"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), "sk-***"),
)


def redact(text: str) -> str:
    """`text` with Slack tokens, bearer tokens, API keys and URL passwords masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """The text format, secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message[, exc_info]."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc_info"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc_info"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack_info"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter for `text` or `json`; ValueError for anything else."""
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return RedactingFormatter(TEXT_FORMAT)
    choices = ", ".join(LOG_FORMATS)
    raise ValueError(f"STUDYBOT_LOG_FORMAT must be one of {choices}, not {log_format!r}.")


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Route every logger (ours, Bolt's, uvicorn's) through one stderr handler in `log_format`."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter_for(log_format))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)  # configured again: replace ours, leave others' alone
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin
