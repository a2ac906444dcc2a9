"""`serve` runs the retention sweep on a timer for as long as the app runs (privacy.periodic),
and not at all with ``privacy.sweep_interval_seconds: 0``."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from connectors.web.app import create_app
from tests.connectors.web.conftest import WebShop


def _with_interval(shop: WebShop, seconds: int) -> TestClient:
    settings = shop.services.settings
    settings = settings.model_copy(
        update={"privacy": settings.privacy.model_copy(update={"sweep_interval_seconds": seconds})}
    )
    return TestClient(create_app(settings, services=shop.services))


def test_the_sweep_runs_while_the_app_runs(web_shop: WebShop) -> None:
    with _with_interval(web_shop, 1) as client:
        sweeper = client.app.state.sweeper  # type: ignore[attr-defined]
        assert sweeper is not None
        deadline = time.monotonic() + 10
        while sweeper.runs < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sweeper.runs >= 1 and sweeper.failures == 0
        assert sweeper.last_result is not None
        assert client.get("/healthz").status_code == 200
    assert sweeper._thread is None  # stopped with the app


def test_no_sweep_at_interval_zero(web_shop: WebShop) -> None:
    with _with_interval(web_shop, 0) as client:
        assert client.app.state.sweeper is None  # type: ignore[attr-defined]
