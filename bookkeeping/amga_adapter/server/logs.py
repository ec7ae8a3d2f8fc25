"""One structured log record per command: user, command, duration, rows, result code."""

from __future__ import annotations

import logging

logger = logging.getLogger("bookkeeping.amga.server")


def log_command(user: str, command: str, duration: float, rows: int, code: int) -> None:
    fields = {
        "user": user,
        "command": command,
        "duration_ms": round(duration * 1000, 3),
        "rows": rows,
        "code": code,
    }
    logger.info(
        "user=%s command=%s duration_ms=%.3f rows=%d code=%d",
        user,
        command,
        fields["duration_ms"],
        rows,
        code,
        extra={"amga": fields},
    )
