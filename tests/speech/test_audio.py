import numpy as np
import pytest

from core.config import SpeechSettings
from core.errors import (
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioError,
    NoSpeechError,
    UnsupportedAudioError,
)
from speech.audio import SAMPLE_RATE, Audio, check_speech_present, decode, decode_pcm, encode, loudest_dbfs
from tests.speech.voices import say


@pytest.mark.parametrize("fmt", ["wav", "ogg", "webm", "mp3"])
def test_each_format_decodes_to_16k_mono(fmt: str) -> None:
    audio = decode(say("do you have running shoes", fmt), SpeechSettings())
    assert audio.source_format == fmt
    assert audio.samples.dtype == np.float32
    assert 1.5 < audio.seconds < 4.0
    assert loudest_dbfs(audio.samples) > -30


def test_bad_input_gets_a_reason() -> None:
    settings = SpeechSettings(max_seconds=2.0, max_bytes=200_000)
    with pytest.raises(EmptyAudioError):
        decode(b"", settings)
    with pytest.raises(UnsupportedAudioError):
        decode(b"this is not audio at all, just some text " * 10, settings)
    with pytest.raises(UnsupportedAudioError):  # a real container, but not one we take
        out = encode(np.zeros(SAMPLE_RATE, np.float32), "wav")
        decode(b"\x89PNG\r\n\x1a\n" + out[8:], settings)
    with pytest.raises(CorruptAudioError):
        decode(say("hello there")[:60], settings)
    with pytest.raises(AudioTooLongError):
        decode(say("this sentence takes quite a bit longer than two seconds to say"), settings)
    with pytest.raises(AudioTooLongError):
        decode(b"x" * 200_001, settings)


def test_silence_is_refused_before_recognition() -> None:
    settings = SpeechSettings()
    silent = decode(encode(np.zeros(SAMPLE_RATE * 2, np.float32), "wav"), settings)
    with pytest.raises(NoSpeechError):
        check_speech_present(silent, settings)
    hiss = Audio(np.random.default_rng(0).normal(0, 0.0005, SAMPLE_RATE).astype(np.float32), "wav")
    with pytest.raises(NoSpeechError):
        check_speech_present(hiss, settings)
    check_speech_present(decode(say("hello"), settings), settings)


def test_raw_pcm_at_telephone_rate_is_resampled() -> None:
    tone = (np.sin(np.arange(8000) / 8000 * 2 * np.pi * 440) * 12000).astype("<i2")
    audio = decode_pcm(tone.tobytes(), 8000, SpeechSettings())
    assert abs(audio.seconds - 1.0) < 0.02
