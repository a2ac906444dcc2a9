"""The policy secret: it signs confirmation, session and agent tokens."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from core.config import Settings
from core.files import private_dir

log = logging.getLogger(__name__)


def load_secret(settings: Settings) -> bytes:
    """The policy secret from config, or a random one kept (mode 0600) in the data directory."""
    if settings.policy.secret_key is not None:
        return settings.policy.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret_key"
    if path.is_file():
        return path.read_bytes().strip()
    private_dir(path.parent)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    os.chmod(path, 0o600)  # os.open's mode is masked by the umask (which could only narrow it)
    log.info("generated a new policy secret in the data directory")
    return key
