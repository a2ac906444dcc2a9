"""Conversation news within one process: the default, with no server. A worker process of
``server.workers`` does not hear another's; the sockets' slow timer (1 s by default without a
server, ``web.ws_safety_poll_seconds``) brings those events."""

from __future__ import annotations

from assistant.sessions.notify.hub import Hub, Subscription


class InProcessBus:
    backend = "in-process"
    crosses_processes = False

    def __init__(self) -> None:
        self.hub = Hub()

    def publish(self, *, session_id: str, seq: int) -> None:
        self.hub.deliver(session_id=session_id, seq=seq)

    def subscribe(self) -> Subscription:
        return self.hub.subscribe()

    def close(self) -> None:
        pass
