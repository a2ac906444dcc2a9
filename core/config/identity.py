"""Settings of who a customer is and what is kept about them: verification levels, guessing
limits, one-time codes by mail, the shop's own sign-in tokens, and data retention."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from core.config.section import Section as _Section

AuthLevel = Literal["knowledge", "otp", "shop_token", "email_or_name_zip"]


class SmtpSettings(_Section):
    host: str | None = Field(
        default=None, description="SMTP server that sends one-time codes. Without it, the otp level is off."
    )
    port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    username: str | None = Field(default=None, description="SMTP login (none: no login).")
    password: SecretStr | None = Field(
        default=None, description="SMTP password; set it in SHOPASSIST_AUTH__SMTP__PASSWORD."
    )
    starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS.")
    sender: str = Field(default="no-reply@localhost", description="From address of the mails the shop sends.")
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Give up on the server after this long."
    )

    @property
    def enabled(self) -> bool:
        return bool(self.host)


class ShopTokenSettings(_Section):
    algorithm: Literal["HS256", "RS256"] = Field(
        default="HS256", description="How the shop signs its customer tokens (JWT)."
    )
    secret: SecretStr | None = Field(
        default=None,
        description="HS256 key shared with the shop's website (SHOPASSIST_AUTH__SHOP_TOKEN__SECRET).",
    )
    public_key_path: Path | None = Field(
        default=None, description="RS256: PEM file of the shop's public key."
    )
    issuer: str | None = Field(default=None, description="Required `iss` claim, if set.")
    audience: str | None = Field(default=None, description="Required `aud` claim, if set.")
    customer_claim: str = Field(default="sub", description="Claim holding the customer's id in the store.")
    leeway_seconds: int = Field(default=30, ge=0, le=600, description="Clock skew allowed on `exp`.")

    @property
    def enabled(self) -> bool:
        if self.algorithm == "HS256":
            return self.secret is not None and bool(self.secret.get_secret_value())
        return self.public_key_path is not None


class AuthSettings(_Section):
    level: AuthLevel = Field(
        default="knowledge",
        description="How a customer proves who they are before anything about their account is "
        "shown or changed. knowledge: two independent facts (email plus zip code, email plus the "
        "last 4 digits of a card on file, or full name plus zip plus card digits). otp: a one-time "
        "code mailed to the email on file (needs auth.smtp). shop_token: the shop's logged-in "
        "customer, passed as a JWT signed by the shop; no questions. email_or_name_zip: "
        "tau-bench's retail policy (an email alone, or full name plus zip); for evaluations only.",
    )
    max_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Failed identity checks, per customer and per client address, after which "
        "further attempts are refused for lockout_seconds, in any conversation.",
    )
    failure_window_seconds: int = Field(
        default=3600, ge=60, description="Failures older than this no longer count."
    )
    lockout_seconds: int = Field(default=900, ge=10, description="How long a lockout lasts.")
    idle_expiry_seconds: int = Field(
        default=1800,
        ge=60,
        description="A verified identity lapses after this long without a message; side effects "
        "then need verification again.",
    )
    otp_ttl_seconds: int = Field(default=300, ge=30, le=3600, description="How long a mailed code is valid.")
    otp_max_attempts: int = Field(default=3, ge=1, le=10, description="Wrong entries that void a code.")
    otp_digits: int = Field(default=6, ge=6, le=10, description="Digits of a one-time code.")
    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="Outgoing mail.")
    shop_token: ShopTokenSettings = Field(
        default_factory=ShopTokenSettings, description="The shop's signed customer tokens."
    )

    @model_validator(mode="after")
    def _level_usable(self) -> AuthSettings:
        if self.level == "otp" and not self.smtp.enabled:
            raise ValueError("auth.level otp needs auth.smtp.host (the codes go out by mail)")
        if self.level == "shop_token" and not self.shop_token.enabled:
            raise ValueError(
                "auth.level shop_token needs auth.shop_token.secret (HS256) or public_key_path (RS256)"
            )
        return self


class PrivacySettings(_Section):
    retention_days: int = Field(
        default=90,
        ge=1,
        description="Conversations older than this (by their last message) are deleted by the sweep, "
        "as the privacy page promises.",
    )
    sweep_interval_seconds: int = Field(
        default=3600, ge=0, description="How often `serve` runs the retention sweep (0: never)."
    )
    self_service_deletion: bool = Field(
        default=False,
        description="Carry out a verified customer's deletion request at once; otherwise it is "
        "queued for the operator (`shopassist customers requests`).",
    )
