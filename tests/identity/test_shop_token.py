"""The shop's signed customer tokens: what verifies, and every way a token is refused.

Tokens are made here with PyJWT (and an RSA key pair generated per test run with
cryptography), the way a shop's website would make them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.config.identity import ShopTokenSettings
from core.errors import AuthenticationRequiredError, ConfigError
from identity.shop_token import InvalidShopTokenError, ShopTokens

SECRET = "shop-and-assistant-share-this-secret-0123456789"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def rs256(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> ShopTokens:
    path = tmp_path / "shop.pub.pem"
    path.write_bytes(_public_pem(rsa_key))
    return ShopTokens(ShopTokenSettings(algorithm="RS256", public_key_path=path))


def hs256(**settings: Any) -> ShopTokens:
    return ShopTokens(ShopTokenSettings(secret=SECRET, **settings))


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "alice_smith_1001", "exp": int(time.time()) + 300, **extra}


def refused(tokens: ShopTokens, token: str) -> InvalidShopTokenError:
    with pytest.raises(InvalidShopTokenError) as caught:
        tokens.customer_of(token)
    error = caught.value
    assert isinstance(error, AuthenticationRequiredError) and error.http_status == 401
    if len(token) >= 5:  # never echoed (a shorter string shows up in any message by chance)
        assert token not in error.message and token not in json.dumps(error.to_dict())
    return error


def test_hs256_token_names_the_customer() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert hs256().customer_of(token) == "alice_smith_1001"


def test_rs256_token_names_the_customer(rs256: ShopTokens, rsa_key: rsa.RSAPrivateKey) -> None:
    token = jwt.encode(claims(sub="bob_jones_2002"), rsa_key, algorithm="RS256")
    assert rs256.customer_of(token) == "bob_jones_2002"


def test_another_claim_can_hold_the_customer_and_numbers_are_ids() -> None:
    tokens = hs256(customer_claim="customer_id")
    assert tokens.customer_of(jwt.encode(claims(customer_id=1001), SECRET, algorithm="HS256")) == "1001"
    error = refused(tokens, jwt.encode(claims(), SECRET, algorithm="HS256"))
    assert error.context["claim"] == "customer_id" and "customer_id" in error.message


def test_expired_token_is_refused_after_the_leeway() -> None:
    past = int(time.time()) - 60
    late = jwt.encode(claims(exp=past), SECRET, algorithm="HS256")
    assert "expired" in refused(hs256(leeway_seconds=0), late).message
    assert hs256(leeway_seconds=120).customer_of(late) == "alice_smith_1001"


def test_token_without_expiry_is_refused() -> None:
    token = jwt.encode({"sub": "alice_smith_1001"}, SECRET, algorithm="HS256")
    error = refused(hs256(), token)
    assert error.context == {"reason": "missing_claim", "claim": "exp"}


def test_token_without_the_customer_claim_is_refused() -> None:
    token = jwt.encode({"exp": int(time.time()) + 300}, SECRET, algorithm="HS256")
    assert refused(hs256(), token).context["claim"] == "sub"
    empty = jwt.encode(claims(sub=" "), SECRET, algorithm="HS256")
    assert refused(hs256(), empty).context["reason"] == "bad_claim"


def test_wrong_signature_is_refused(rs256: ShopTokens) -> None:
    forged = jwt.encode(claims(), "another-secret-that-is-long-enough-0123456789", algorithm="HS256")
    assert "signature" in refused(hs256(), forged).message
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert "signature" in refused(rs256, jwt.encode(claims(), other_key, algorithm="RS256")).message
    header, _payload, signature = jwt.encode(claims(), SECRET, algorithm="HS256").split(".")
    changed = _b64(json.dumps(claims(sub="bob_jones_2002")).encode())
    assert "signature" in refused(hs256(), f"{header}.{changed}.{signature}").message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_alg_none_is_refused(rs256: ShopTokens) -> None:
    unsigned = _b64(b'{"alg":"none","typ":"JWT"}') + "." + _b64(json.dumps(claims()).encode()) + "."
    for tokens in (hs256(), rs256):
        assert refused(tokens, unsigned).context["reason"] == "algorithm"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_only_the_configured_algorithm_is_accepted(rs256: ShopTokens, rsa_key: rsa.RSAPrivateKey) -> None:
    # Algorithm confusion: an HS256 token keyed with the (public) RSA key the server holds.
    public_pem = _public_pem(rsa_key)
    header = _b64(b'{"alg":"HS256","typ":"JWT"}')
    body = _b64(json.dumps(claims()).encode())
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{body}.{_b64(mac)}"
    assert "algorithm" in refused(rs256, confused).message
    # An RS256 token where HS256 is configured: refused too, even though its signature is good.
    assert "algorithm" in refused(hs256(), jwt.encode(claims(), rsa_key, algorithm="RS256")).message
    other = jwt.encode(claims(), SECRET, algorithm="HS512")
    assert "algorithm" in refused(hs256(), other).message


def test_issuer_and_audience_are_checked_when_configured() -> None:
    tokens = hs256(issuer="https://shop.example", audience="shopassist")
    good = jwt.encode(claims(iss="https://shop.example", aud="shopassist"), SECRET, algorithm="HS256")
    assert tokens.customer_of(good) == "alice_smith_1001"
    wrong_iss = jwt.encode(claims(iss="https://evil.example", aud="shopassist"), SECRET, algorithm="HS256")
    assert "issuer" in refused(tokens, wrong_iss).message
    wrong_aud = jwt.encode(claims(iss="https://shop.example", aud="other"), SECRET, algorithm="HS256")
    assert "audience" in refused(tokens, wrong_aud).message
    no_aud = jwt.encode(claims(iss="https://shop.example"), SECRET, algorithm="HS256")
    assert refused(tokens, no_aud).context["claim"] == "aud"
    # Not configured: an aud or iss the shop adds is not held against it.
    assert hs256().customer_of(wrong_aud) == "alice_smith_1001"


def test_garbage_is_refused_without_echoing_it() -> None:
    for token in ("", "not-a-jwt", "a.b.c", "x" * 10_000, "eyJ\u00e9.b.c"):
        refused(hs256(), token)


def test_a_key_that_cannot_check_tokens_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        ShopTokens(ShopTokenSettings(secret="short"))
    with pytest.raises(ConfigError, match="needs a secret"):
        ShopTokens(ShopTokenSettings())
    missing = tmp_path / "missing.pem"
    with pytest.raises(ConfigError, match="cannot read a PEM public key"):
        ShopTokens(ShopTokenSettings(algorithm="RS256", public_key_path=missing))
    not_pem = tmp_path / "key.pem"
    not_pem.write_text("hello")
    with pytest.raises(ConfigError, match="cannot read a PEM public key"):
        ShopTokens(ShopTokenSettings(algorithm="RS256", public_key_path=not_pem))
