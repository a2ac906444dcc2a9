"""Fixtures for identity: a real SMTP server (aiosmtpd) on a free port of 127.0.0.1, a migrated
SQLite store with two customers, a PostgreSQL database of its own (:mod:`tests.databases`),
and a clock tests move."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from core.config.identity import AuthSettings, SmtpSettings
from store.db import Database
from store.models import Customer
from tests.databases import NewPostgres

SECRET = b"test-secret-key-0123456789"
JANE = "cust-jane"
JANE_EMAIL = "jane.doe@example.com"
JOHN = "cust-john"
JOHN_EMAIL = "john.roe@example.org"
T0 = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
SMTP_USER, SMTP_PASSWORD = "shop", "s3cret-pass"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Clock:
    """A clock tests move by hand: ``clock.advance(seconds=301)``."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


# SMTP ------------------------------------------------------------------------------------------
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message


@dataclass
class MailServer:
    """What the test SMTP server received, and settings that point at it."""

    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def settings(self, **overrides: Any) -> SmtpSettings:
        options: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "starttls": False,
            "timeout_seconds": 5,
        }
        return SmtpSettings(**{**options, **overrides})

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        ):
            self.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, for the STARTTLS server."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _serve(server: MailServer, **smtp_options: Any) -> Iterator[MailServer]:
    controller = Controller(server, hostname="127.0.0.1", port=server.port, **smtp_options)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    """A plain SMTP server (no TLS, no login) collecting what it receives."""
    yield from _serve(MailServer(port=free_port()))


@dataclass
class TlsMailServer(MailServer):
    client_context: ssl.SSLContext | None = None


@pytest.fixture
def tls_smtp_server(tmp_path: Path) -> Iterator[TlsMailServer]:
    """An SMTP server that requires STARTTLS and a login (``SMTP_USER``/``SMTP_PASSWORD``);
    ``client_context`` trusts its self-signed certificate."""
    cert, key = _self_signed(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = TlsMailServer(port=free_port(), client_context=ssl.create_default_context(cafile=str(cert)))
    yield from _serve(  # type: ignore[misc]
        server,
        tls_context=server_context,
        require_starttls=True,
        authenticator=server.authenticate,
        auth_required=True,
    )


@pytest.fixture
def dead_smtp_port() -> int:
    """A port of 127.0.0.1 where nothing listens: connecting is refused at once."""
    return free_port()


# Store -----------------------------------------------------------------------------------------
def add_customers(db: Database) -> None:
    with db.transaction() as session:
        session.add(Customer(id=JANE, first_name="Jane", last_name="Doe", email=JANE_EMAIL))
        session.add(Customer(id=JOHN, first_name="John", last_name="Roe", email=JOHN_EMAIL))


def _build_identity_store(url: str) -> None:
    db = Database(url)
    db.migrate()
    add_customers(db)
    db.dispose()


@pytest.fixture(scope="session")
def _identity_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("identity") / "shop.db"
    _build_identity_store(f"sqlite:///{path}")
    return path


@pytest.fixture
def store_url(tmp_path: Path, _identity_template: Path) -> str:
    """A migrated SQLite store with Jane and John, one per test."""
    path = tmp_path / "shop.db"
    shutil.copy(_identity_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def store(store_url: str) -> Iterator[Database]:
    db = Database(store_url)
    yield db
    db.dispose()


@pytest.fixture
def postgres_url(new_postgres: NewPostgres) -> str:
    """A PostgreSQL database of the test's own, migrated, with Jane and John; dropped after it."""
    return new_postgres("identity", _build_identity_store)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest) -> str:
    """One store, on SQLite and on PostgreSQL, that several Database objects (workers) open."""
    return str(request.getfixturevalue("store_url" if request.param == "sqlite" else "postgres_url"))


@pytest.fixture
def make_databases() -> Iterator[Callable[[str], Database]]:
    """Open Database objects on a URL (as separate workers would); all disposed after the test."""
    opened: list[Database] = []

    def _open(url: str) -> Database:
        db = Database(url)
        opened.append(db)
        return db

    yield _open
    for db in opened:
        db.dispose()


@pytest.fixture
def auth_settings() -> AuthSettings:
    return AuthSettings(max_failures=3, failure_window_seconds=3600, lockout_seconds=900)
