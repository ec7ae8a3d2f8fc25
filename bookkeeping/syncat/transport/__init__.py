"""Moving signed messages: RabbitMQ (AMQP 0-9-1 through kombu) or a database table.

``open_transport(setting, engine)`` picks one from ``BK_SYNCAT_BROKER``: an ``amqp://`` URL
for RabbitMQ, empty or ``database`` for the embedded table (``make demo``).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bookkeeping.errors import ConfigError
from bookkeeping.syncat.transport.base import Delivery, Transport

__all__ = ["Delivery", "Transport", "open_transport"]


def open_transport(setting: str, engine: Engine) -> Transport:
    text = setting.strip()
    if text in ("", "database"):
        from bookkeeping.syncat.transport.database import DatabaseTransport

        return DatabaseTransport(engine)
    if text.startswith(("amqp://", "amqps://", "pyamqp://")):
        from bookkeeping.syncat.transport.amqp import AmqpTransport

        return AmqpTransport(text)
    raise ConfigError(
        f"BK_SYNCAT_BROKER {text!r} is neither an amqp:// URL (RabbitMQ) nor 'database'"
    )
