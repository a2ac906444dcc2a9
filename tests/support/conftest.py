"""The support desk works on the conversation store: the same store fixtures as the sessions' tests."""

from tests.assistant.conftest import sessions_url, store  # noqa: F401  (fixtures)
