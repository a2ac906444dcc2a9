"""Request bodies are capped while they stream in: a real uvicorn server, raw sockets, and the
temporary directory Starlette's multipart parser spools uploads to, watched."""

from __future__ import annotations

import json
import select
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connectors.web.app import create_app
from connectors.web.body_limit import MULTIPART_OVERHEAD
from core.config import SpeechSettings
from tests.connectors.web.conftest import WebShop
from tests.servers import serve_in_thread

SPEECH_MAX = 200_000
BOUNDARY = "----shopassist-test-boundary"
CHUNK = 64 * 1024


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's temporary directory (uploads spool here), empty at the start."""
    path = tmp_path / "spool"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


@pytest.fixture
def server(web_shop: WebShop, spool: Path) -> Iterator[tuple[str, int]]:
    """The app (speech.max_bytes 200 kB; no voice loaded: the cap is checked before the route
    runs) on a real uvicorn server; yields its host and port."""
    settings = web_shop.services.settings.model_copy(update={"speech": SpeechSettings(max_bytes=SPEECH_MAX)})
    app = create_app(settings, services=web_shop.services)
    with serve_in_thread(app, name="web app") as url:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        yield parts.hostname, parts.port


def _spooled_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, json.loads(body[:length]) if length else {}


def _head(path: str, host: str, port: int, content_type: str, framing: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n"
    ).encode()


def test_a_huge_content_length_is_refused_before_any_of_the_body_is_sent(
    server: tuple[str, int], spool: Path
) -> None:
    host, port = server
    for path, content_type in (
        ("/api/v1/speech", f"multipart/form-data; boundary={BOUNDARY}"),
        ("/api/v1/chat", "application/json"),
        ("/api/v1/telegram/webhook", "application/json"),
    ):
        with socket.create_connection((host, port), timeout=30) as sock:
            sock.sendall(_head(path, host, port, content_type, "Content-Length: 200000000"))
            # Not one byte of the 200 MB is sent: the answer can only come from the headers.
            status, headers, body = _read_response(sock)
            assert status == 413, (path, body)
            assert body["error"]["code"] == "request_too_large"
            assert headers["connection"] == "close"
            assert sock.recv(1) == b""  # and the server hung up
    assert _spooled_bytes(spool) == 0


def _send_chunked_until_answered(sock: socket.socket, total: int, first: bytes = b"") -> int:
    """Send up to ``total`` bytes as chunks; stop as soon as an answer is readable. Returns
    how many body bytes were sent by then."""
    sent = 0
    payload = first + b"\0" * (CHUNK - len(first))
    while sent < total:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            return sent
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (len(payload), payload))
        except (BrokenPipeError, ConnectionResetError):
            return sent
        sent += len(payload)
        payload = b"\0" * CHUNK
    readable, _, _ = select.select([sock], [], [], 30)
    return sent


def test_a_chunked_upload_is_cut_off_with_413_once_past_the_cap_and_never_spooled(
    server: tuple[str, int], spool: Path
) -> None:
    host, port = server
    upload = 300 * 1024 * 1024
    part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="u.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    with socket.create_connection((host, port), timeout=30) as sock:
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
        sock.sendall(_head("/api/v1/speech", host, port, content_type, "Transfer-Encoding: chunked"))
        sent = _send_chunked_until_answered(sock, upload, part)
        status, _headers, body = _read_response(sock)
    assert status == 413 and body["error"]["code"] == "request_too_large", body
    assert body["error"]["context"]["limit_bytes"] == SPEECH_MAX + MULTIPART_OVERHEAD
    # Cut off near the cap: what was sent beyond it sat in socket buffers, never in a file.
    assert sent < upload / 10, sent
    assert _spooled_bytes(spool) < 2 * (SPEECH_MAX + MULTIPART_OVERHEAD)


def test_a_chunked_json_body_over_the_limit_gets_413(web_shop: WebShop, server: tuple[str, int]) -> None:
    host, port = server
    limit = web_shop.services.settings.max_json_bytes
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(_head("/api/v1/chat", host, port, "application/json", "Transfer-Encoding: chunked"))
        upload = 200 * 1024 * 1024
        sent = _send_chunked_until_answered(sock, upload, b'{"message": "')
        status, _headers, body = _read_response(sock)
    assert status == 413 and body["error"]["context"]["limit_bytes"] == limit
    assert sent < upload / 10


def test_bodies_within_the_limits_pass(web_shop: WebShop, server: tuple[str, int]) -> None:
    import httpx

    host, port = server
    limit = web_shop.services.settings.max_json_bytes
    message = "a" * web_shop.services.settings.dialogue.max_message_chars
    with httpx.Client(base_url=f"http://{host}:{port}") as client:
        ok = client.post("/api/v1/chat", json={"message": message})
        assert ok.status_code == 200, ok.text

        def chunks() -> Iterator[bytes]:  # the same body, chunked (no Content-Length)
            yield b'{"message": "'
            yield b"\\u0041" * (web_shop.services.settings.dialogue.max_message_chars)
            yield b'"}'

        escaped = client.post("/api/v1/chat", content=chunks(), headers={"Content-Type": "application/json"})
        assert escaped.status_code == 200, escaped.text
        over = client.post(
            "/api/v1/chat", content=b" " * (limit + 1), headers={"Content-Type": "application/json"}
        )
        assert over.status_code == 413
