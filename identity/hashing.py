"""Keyed hashes of what identity code stores: counters of failed checks are keyed by a hash of
the email or client address, one-time codes are stored as a hash of the code. Keys are derived
from the policy secret per purpose, so a hash made for one purpose is useless for another and
the policy secret itself never keys anything here directly."""

from __future__ import annotations

import hashlib
import hmac


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` derived from the policy secret (HMAC-SHA256 as a KDF)."""
    if not secret:
        raise ValueError("an empty secret would make every keyed hash guessable")
    return hmac.new(secret, b"shopassist identity v1\x00" + purpose.encode(), hashlib.sha256).digest()


def keyed_hash(key: bytes, *parts: str) -> str:
    """Hex HMAC-SHA256 of ``parts``; the separator keeps ("ab", "c") apart from ("a", "bc")."""
    message = "\x00".join(parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
