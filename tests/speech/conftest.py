"""The Whisper model, loaded once for the whole test session."""

from __future__ import annotations

import pytest

from shopassist.config_channels import SpeechSettings
from speech.recognizer import WhisperRecognizer, shared_recognizer


@pytest.fixture(scope="session")
def speech_settings() -> SpeechSettings:
    return SpeechSettings()


@pytest.fixture(scope="session")
def recognizer(speech_settings: SpeechSettings) -> WhisperRecognizer:
    return shared_recognizer(speech_settings)
