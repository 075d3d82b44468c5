"""A logging filter that removes patient identifiers that slipped into a log message.

Code logs ids only; this is the safety net.  It redacts anything shaped like a medical record
number (``MRN`` followed by digits/letters, or the site pattern in ``LOG_REDACT_PATTERNS``)."""

from __future__ import annotations

import logging
import re

DEFAULT_PATTERNS = (r"\bMRN[\s:#=-]*[A-Z0-9]{3,}\b",)
REDACTED = "[redacted]"


class RedactPatientIdentifiers(logging.Filter):
    def __init__(self, patterns: tuple[str, ...] | list[str] = DEFAULT_PATTERNS) -> None:
        super().__init__()
        self.pattern = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            return True
        redacted = self.pattern.sub(REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
