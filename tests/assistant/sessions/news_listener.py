"""A second process for the notification bus tests: it opens the bus the given settings call
for, waits on one conversation and reports on stdout (``ready``; ``first <woken>`` after a
quiet second and a half; ``waiting``; ``second <woken> <epoch seconds>``).

Run as ``python -m tests.assistant.sessions.news_listener '<settings JSON>' <session_id>``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from assistant.sessions.notify import open_event_bus
from core.config import Settings
from core.health import ComponentHealth, ComponentState


async def main(settings: Settings, session_id: str) -> None:
    health = ComponentHealth("live_events")
    bus = open_event_bus(settings, health=health, redis_health=ComponentHealth("redis"))
    try:
        deadline = time.monotonic() + 20
        while health.status.state is not ComponentState.OK and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        subscription = bus.subscribe()
        subscription.watch(session_id=session_id, seen_seq=0)
        print(f"ready {bus.backend} {health.status.state.value}", flush=True)
        print(f"first {await subscription.wait(timeout=1.5)}", flush=True)
        print("waiting", flush=True)
        woken = await subscription.wait(timeout=15)
        print(f"second {woken} {time.time()!r}", flush=True)
    finally:
        bus.close()


if __name__ == "__main__":
    asyncio.run(main(Settings(**json.loads(sys.argv[1])), sys.argv[2]))
