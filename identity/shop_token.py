"""The shop's own sign-in: a JWT its website signs for the customer who is logged in there.

A shop that already knows who its visitor is (they logged in on the shop's site) should not make
them answer questions in the chat. It signs a short-lived token for that customer, with the key
configured in ``auth.shop_token`` (HS256 with a shared secret, or RS256 with the shop's private
key; we hold only the public key), and passes it to the widget or the API. :class:`ShopTokens`
checks it and answers which customer it names.

Only the configured algorithm is accepted: ``alg: none`` and algorithm confusion (an HS256 token
"signed" with the RS256 public key as its secret) are refused, as is a token without ``exp``.
Every failure is an :class:`InvalidShopTokenError` naming what is wrong, never the token itself:
tokens are credentials and error messages end up in logs and on screens.
"""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from core.config.identity import ShopTokenSettings
from core.errors import AuthenticationRequiredError, ConfigError

MAX_TOKEN_CHARS = 8192
"""Longer is not a sign-in token (and is not worth parsing)."""
MAX_CUSTOMER_ID = 200


class InvalidShopTokenError(AuthenticationRequiredError):
    """The shop's sign-in token could not be accepted; the message says why (expired, bad
    signature...). The visitor is not signed in; nothing else changed."""

    code = "invalid_shop_token"
    http_status = 401


class ShopTokensOffError(AuthenticationRequiredError):
    """A shop token was presented but this server has no key to check it with."""

    code = "shop_tokens_off"
    http_status = 400


# What each PyJWT failure means for the shop's developer reading the error, with the short
# reason in the error's context (checked in order: several are subclasses of others).
_REASONS: tuple[tuple[type[Exception], str, str], ...] = (
    (jwt.ExpiredSignatureError, "expired", "the shop token has expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid", "the shop token is not valid yet (nbf or iat ahead)"),
    (jwt.InvalidAudienceError, "audience", "the shop token is for another audience (aud)"),
    (jwt.InvalidIssuerError, "issuer", "the shop token comes from another issuer (iss)"),
    (jwt.InvalidAlgorithmError, "algorithm", "the shop token is signed with an algorithm not accepted here"),
    (jwt.InvalidSignatureError, "signature", "the shop token's signature does not verify"),
    (jwt.InvalidKeyError, "key", "the shop token cannot be checked with the configured key"),
    (jwt.DecodeError, "malformed", "the shop token is not a well-formed JWT"),
)


class ShopTokens:
    """Checks the shop's customer tokens against ``auth.shop_token`` (built once, at start)."""

    def __init__(self, settings: ShopTokenSettings) -> None:
        if not settings.enabled:
            raise ConfigError(
                "auth.shop_token needs a secret (HS256) or public_key_path (RS256)", key="auth.shop_token"
            )
        self.settings = settings
        self.algorithm = settings.algorithm
        self._key: str | RSAPublicKey = _key(settings)

    def customer_of(self, token: str) -> str:
        """The id of the customer the token names; :class:`InvalidShopTokenError` otherwise."""
        if not isinstance(token, str) or not token.strip():
            raise InvalidShopTokenError("The shop token is empty", reason="empty")
        token = token.strip()
        if len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise InvalidShopTokenError("The shop token is not a well-formed JWT", reason="malformed")
        s = self.settings
        claim = s.customer_claim
        required = ["exp", claim]
        required += ["iss"] if s.issuer else []
        required += ["aud"] if s.audience else []
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[self.algorithm],
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway_seconds,
                options={"require": required, "verify_aud": s.audience is not None},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidShopTokenError(
                f"The shop token lacks the required claim {exc.claim!r}",
                reason="missing_claim",
                claim=exc.claim,
            ) from None
        except jwt.PyJWTError as exc:
            message, reason = _reason(exc)
            raise InvalidShopTokenError(message[:1].upper() + message[1:], reason=reason) from None
        return _customer_id(claims.get(claim), claim)


def _key(settings: ShopTokenSettings) -> str | RSAPublicKey:
    if settings.algorithm == "HS256":
        secret = settings.secret.get_secret_value() if settings.secret is not None else ""
        if len(secret.encode()) < 32:
            raise ConfigError(
                "auth.shop_token.secret must be at least 32 bytes for HS256 (RFC 7518 section 3.2)",
                key="auth.shop_token.secret",
            )
        return secret
    path = settings.public_key_path
    try:
        loaded = load_pem_public_key(path.read_bytes()) if path is not None else None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"auth.shop_token.public_key_path: cannot read a PEM public key from {path} "
            f"({type(exc).__name__})",
            key="auth.shop_token.public_key_path",
        ) from None
    if not isinstance(loaded, RSAPublicKey):
        raise ConfigError(
            f"auth.shop_token.public_key_path: {path} is not an RSA public key (RS256 needs one)",
            key="auth.shop_token.public_key_path",
        )
    return loaded


def _reason(exc: Exception) -> tuple[str, str]:
    for kind, reason, message in _REASONS:
        if isinstance(exc, kind):
            return message, reason
    return "the shop token is not valid", "invalid"


def _customer_id(value: object, claim: str) -> str:
    """The claim's value as a store customer id (a JWT may carry a numeric id)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    usable = isinstance(value, str) and value.strip() and value.isprintable()
    if not usable or not isinstance(value, str) or len(value) > MAX_CUSTOMER_ID:
        raise InvalidShopTokenError(
            f"The shop token's {claim!r} claim is not a customer id", reason="bad_claim", claim=claim
        )
    return value.strip()
