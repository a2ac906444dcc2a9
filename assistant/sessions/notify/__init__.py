"""The notification bus of conversation events: when an append commits, the session store
publishes "conversation S has events up to seq N", and the sockets showing S (in any process)
wake and read the new events from the store, instead of reading it every second.

:func:`open_event_bus` picks the backend from the settings: Redis pub/sub when ``redis.url``
is set; else PostgreSQL LISTEN/NOTIFY when the conversation store is PostgreSQL; else within
the process (the default, no server). The protocol and the waiters are in
:mod:`assistant.sessions.notify.hub`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from assistant.sessions.notify.hub import EventBus, Subscription
from assistant.sessions.notify.local import InProcessBus

if TYPE_CHECKING:
    from core.config import Settings
    from core.health import ComponentHealth

__all__ = ["EventBus", "InProcessBus", "Subscription", "open_event_bus"]


def open_event_bus(settings: Settings, *, health: ComponentHealth, redis_health: ComponentHealth) -> EventBus:
    """The bus these settings call for. ``health`` follows its listening connection (``ok``
    naming the backend, ``degraded`` while it is lost); ``redis_health`` too, with Redis."""
    redis = settings.redis
    if redis.url is not None:
        from assistant.sessions.notify.redis_pubsub import RedisBus

        return RedisBus(
            redis.url,
            key_prefix=redis.key_prefix,
            timeout=redis.timeout_seconds,
            healths=(health, redis_health),
        )
    if sa.make_url(settings.sessions_url).get_backend_name() == "postgresql":
        from assistant.sessions.notify.pg_listen import PostgresBus

        return PostgresBus(
            settings.sessions_url,
            key_prefix=redis.key_prefix,
            timeout=redis.timeout_seconds,
            healths=(health,),
        )
    health.ok("in-process")
    return InProcessBus()
