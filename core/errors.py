"""The one exception hierarchy of Shopassist.

Every error carries a machine-readable ``code``, the HTTP status it maps to, a message meant
for people, and context fields. Transports map these in one place
(``connectors/web/errors.py``); nothing else decides status codes.

"Bad arguments" (:class:`InvalidArgumentsError`) are kept apart from "the action is not
allowed" (:class:`ActionRefusedError`, a business rule said no) and from "the tool failed"
(:class:`ToolFailedError`, something broke).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar


class ShopassistError(Exception):
    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "context": self.context}


class ConfigError(ShopassistError):
    code = "config_error"


class NotFoundError(ShopassistError):
    code = "not_found"
    http_status = 404


class RegistryError(ShopassistError):
    """Duplicate registration or an invalid registered object."""

    code = "registry_error"


class UnknownNameError(NotFoundError):
    """A registry lookup failed; the message lists the valid names."""

    code = "unknown_name"

    def __init__(self, kind: str, name: str, valid: Iterable[str]) -> None:
        names = sorted(valid)
        super().__init__(
            f"Unknown {kind} {name!r}. Valid names: {', '.join(names) or '(none)'}",
            kind=kind,
            name=name,
            valid=names,
        )


class InvalidArgumentsError(ShopassistError):
    """The caller's arguments do not validate. ``errors`` names each bad argument."""

    code = "invalid_arguments"
    http_status = 422

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, **context: Any) -> None:
        super().__init__(message, errors=errors or [], **context)
        self.errors = errors or []


class PolicyError(ShopassistError):
    code = "policy"
    http_status = 403


class AuthenticationRequiredError(PolicyError):
    code = "authentication_required"
    http_status = 401


class PermissionDeniedError(PolicyError):
    """The authenticated customer may not touch this resource (e.g. another customer's order)."""

    code = "permission_denied"
    http_status = 403


class ConfirmationRequiredError(PolicyError):
    """A side-effect tool ran without a valid confirmation token for exactly these arguments."""

    code = "confirmation_required"
    http_status = 428


class ActionRefusedError(ShopassistError):
    """A business rule refuses the action (order not pending, item out of stock...)."""

    code = "action_refused"
    http_status = 409


class ToolFailedError(ShopassistError):
    """The tool broke while running; nothing was written."""

    code = "tool_failed"
    http_status = 500


class IndexClosedError(ShopassistError):
    """The search index was closed while a build ran on it (the process is stopping)."""

    code = "index_closed"
    http_status = 503


class ImportFailedError(ShopassistError):
    """An import could not run at all (unreadable file, unknown format)."""

    code = "import_failed"
    http_status = 400


class AudioRejectedError(InvalidArgumentsError):
    """Audio the speech API cannot use; each subclass names the reason."""

    code = "audio_rejected"
    http_status = 400


class EmptyAudioError(AudioRejectedError):
    code = "empty_audio"
    http_status = 400


class UnsupportedAudioError(AudioRejectedError):
    """Not WAV, OGG/Opus, WebM or MP3."""

    code = "unsupported_audio_format"
    http_status = 415


class CorruptAudioError(AudioRejectedError):
    code = "corrupt_audio"
    http_status = 400


class AudioTooLongError(AudioRejectedError):
    code = "audio_too_long"
    http_status = 413


class NoSpeechError(AudioRejectedError):
    """Silence, or nothing the recognizer could turn into words."""

    code = "no_speech"
    http_status = 422


class SpeechUnavailableError(ShopassistError):
    """Recognition or synthesis is not available (model or espeak-ng missing, synthesis failed)."""

    code = "speech_unavailable"
    http_status = 503


class MailUnavailableError(ShopassistError):
    """The mail server could not be reached, or refused the login, TLS or the message: nothing
    was sent. Kept apart from :class:`ToolFailedError` because the shop itself is fine and the
    customer can try again later or verify another way."""

    code = "mail_unavailable"
    http_status = 503


class ConnectorUnavailableError(ShopassistError):
    """An optional channel is configured but not connected yet (e.g. Telegram while its Bot API
    cannot be reached); it retries in the background. 503, so a sender tries again later."""

    code = "connector_unavailable"
    http_status = 503


class StorageError(ShopassistError):
    """The shop's database could not be written (or opened). Raised from the store's engines in
    place of the driver's error, so every caller and transport sees one kind; the transaction
    that hit it was rolled back, so nothing is half-written."""

    code = "storage_unavailable"
    http_status = 503


class StorageFullError(StorageError):
    """The disk (or the database's size limit) is full."""

    code = "storage_full"
    http_status = 507


class StorageUnavailableError(StorageError):
    """The database is read-only, missing or cannot be opened."""

    code = "storage_unavailable"
    http_status = 503


class RequestTooLargeError(InvalidArgumentsError):
    """A request body is over its route's limit; refused before it was read (or as soon as the
    limit was passed while it streamed in)."""

    code = "request_too_large"
    http_status = 413
