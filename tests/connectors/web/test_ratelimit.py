"""Rate limits shared in Redis: two processes count into one window; when Redis goes away the
checks fail open to each process's own window (still limiting), are counted in /metrics and
turn /readyz's ``redis`` component degraded; once Redis is back the shared window serves again.

Real Redis throughout: the test Redis under a key prefix of the test's own (deleted after), or
a redis-server of the test's own where Redis has to go away.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from connectors.web.ratelimit import RateLimitedError, RateLimits, shared_storage
from core.config import RedisSettings
from core.health import ComponentHealth, ComponentState
from eval.dialogue.runner import ScenarioHarness
from services import Services
from tests.backends import REDIS_URL, OwnRedis
from tests.conftest import REPO

OTHER_PROCESS = """
import sys
from connectors.web.ratelimit import RateLimitedError, RateLimits, shared_storage
from core.config import RedisSettings

limits = RateLimits(
    per_session="3/minute",
    per_ip="100/minute",
    shared=shared_storage(RedisSettings(url=sys.argv[1], key_prefix=sys.argv[2])),
)
for _ in range(2):
    try:
        limits.check(ip="10.0.0.2", session_id="conversation-1")
        print("ok")
    except RateLimitedError:
        print("limited")
"""


def _outcome(limits: RateLimits, session_id: str = "conversation-1") -> str:
    try:
        limits.check(ip="10.0.0.1", session_id=session_id)
    except RateLimitedError:
        return "limited"
    return "ok"


def test_two_processes_count_into_one_window_in_redis(redis_key_prefix: str) -> None:
    settings = RedisSettings(url=REDIS_URL, key_prefix=redis_key_prefix)
    here = RateLimits(per_session="3/minute", per_ip="100/minute", shared=shared_storage(settings))
    assert [_outcome(here), _outcome(here)] == ["ok", "ok"]
    other = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, REDIS_URL, redis_key_prefix],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.split() == ["ok", "limited"]  # the third message, then the fourth
    assert _outcome(here) == "limited"
    assert _outcome(here, "conversation-2") == "ok"  # another conversation has its own window
    # Another scope (the agents' log-ins) in the same Redis keeps windows of its own.
    logins = RateLimits(
        per_session="3/minute", per_ip="100/minute", scope="login", shared=shared_storage(settings)
    )
    assert _outcome(logins) == "ok"
    client = redis.Redis.from_url(REDIS_URL)
    keys = {key.decode() for key in client.scan_iter(match=f"{redis_key_prefix}*")}
    client.close()
    assert keys and all(key.startswith(f"{redis_key_prefix}limits:") for key in keys), keys


def test_without_redis_checks_fall_back_to_the_process_window_until_it_is_back(own_redis: OwnRedis) -> None:
    health, fallbacks = ComponentHealth("redis"), []
    limits = RateLimits(
        per_session="2/minute",
        per_ip="100/minute",
        shared=shared_storage(RedisSettings(url=own_redis.url, timeout_seconds=0.5)),
        health=health,
        on_fallback=fallbacks.append,
        retry_seconds=0,
    )
    assert _outcome(limits) == "ok"
    assert fallbacks == []
    own_redis.stop()
    # Fail open, but not unlimited: this process's own window still counts.
    assert [_outcome(limits), _outcome(limits), _outcome(limits)] == ["ok", "ok", "limited"]
    assert fallbacks == ["chat"] * 3
    assert health.status.state is ComponentState.DEGRADED and "fall back" in health.status.reason
    own_redis.start()  # an empty Redis: the shared window starts again
    assert _outcome(limits) == "ok"
    assert health.status.state is ComponentState.OK and len(fallbacks) == 3


@pytest.fixture
def redis_app(harness: ScenarioHarness, own_redis: OwnRedis) -> Iterator[tuple[TestClient, Services]]:
    """The fixture shop's web app with its rate limits in the test's own Redis."""
    with harness.assistant() as (_assistant, services):
        settings = services.settings.model_copy(update={"redis": RedisSettings(url=own_redis.url)})
        with TestClient(create_app(settings, services=services)) as client:
            yield client, services


def test_the_app_keeps_chatting_when_redis_is_down_and_says_so(
    redis_app: tuple[TestClient, Services], own_redis: OwnRedis
) -> None:
    client, _services = redis_app
    assert client.post("/api/v1/chat", json={"message": "hi"}).status_code == 200
    own_redis.stop()
    answered = client.post("/api/v1/chat", json={"message": "do you sell tents?"})
    assert answered.status_code == 200, answered.text
    redis_state = client.get("/readyz").json()["components"]["redis"]
    assert redis_state["state"] == "degraded" and "fall back" in redis_state["reason"]
    metrics = client.get("/metrics").text
    assert 'shopassist_rate_limit_fallbacks_total{scope="chat"} 1.0' in metrics
