"""The demo shop page and the widget's static files (one JS and one CSS file, no build step)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["widget"])
_STATIC = resources.files("connectors.web").joinpath("static")


def _asset(name: str) -> bytes:
    return _STATIC.joinpath(name).read_bytes()


@router.get("/", response_class=HTMLResponse, summary="A demo shop page with the chat widget")
def demo_page() -> HTMLResponse:
    return HTMLResponse(_asset("demo.html"))


@router.get("/agent", response_class=HTMLResponse, summary="The agent console")
def agent_console() -> HTMLResponse:
    return HTMLResponse(_asset("agent.html"))


@router.get("/agent.js", summary="The agent console's script")
def agent_js() -> Response:
    return Response(_asset("agent.js"), media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/widget.js", summary="The embeddable chat widget (add data-server to the script tag)")
def widget_js() -> Response:
    return Response(
        _asset("widget.js"), media_type="text/javascript", headers={"Cache-Control": "max-age=300"}
    )


@router.get("/widget.css", summary="The widget's styles")
def widget_css() -> Response:
    return Response(_asset("widget.css"), media_type="text/css", headers={"Cache-Control": "max-age=300"})
