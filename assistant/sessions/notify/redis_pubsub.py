"""Conversation news over Redis pub/sub (redis-py), when ``redis.url`` is set: one channel,
``<key_prefix>events``, that every process publishes to and listens on.

Pub/sub keeps nothing: a process that is disconnected misses what is published meanwhile, so
after reconnecting it wakes all its waiters, who read their conversations again (see
:mod:`assistant.sessions.notify.remote` for sending, reconnecting and the health states).
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from assistant.sessions.notify.remote import Listener, RemoteBus
from core.health import ComponentHealth
from core.redis_client import fail_fast_client

PING_SECONDS = 5
"""A quiet listening connection is checked this often, so a dead one is noticed."""


class _PubSubListener(Listener):
    def __init__(self, client: redis.Redis, channel: str) -> None:
        self._client = client
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            self._pubsub.subscribe(channel)
        except BaseException:
            self.close()
            raise

    def receive(self, *, timeout: float) -> list[str]:
        message = self._pubsub.get_message(timeout=timeout)
        if message is None or message.get("type") != "message":
            return []
        data = message["data"]
        return [data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)]

    def close(self) -> None:
        self._pubsub.close()
        self._client.close()


class RedisBus(RemoteBus):
    backend = "redis"
    errors = (redis.RedisError, OSError)

    def __init__(
        self, url: str, *, key_prefix: str, timeout: float, healths: Sequence[ComponentHealth]
    ) -> None:
        self._url, self._timeout = url, timeout
        self._client = fail_fast_client(url, timeout=timeout)
        super().__init__(channel=f"{key_prefix}events", healths=healths)

    def _send(self, message: str) -> None:
        self._client.publish(self.channel, message)

    def _open(self) -> Listener:
        # A closed connection fails the next read; a silent one is found by the periodic ping.
        client = fail_fast_client(self._url, timeout=self._timeout, health_check_interval=PING_SECONDS)
        return _PubSubListener(client, self.channel)

    def _closed(self) -> None:
        self._client.close()
