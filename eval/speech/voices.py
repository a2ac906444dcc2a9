"""Customer utterances synthesised with espeak-ng (a slow, clear voice with short gaps between
words, like a customer talking to a phone), in each format the speech API accepts."""

from __future__ import annotations

import subprocess
from functools import lru_cache

from core.config import SpeechSettings
from speech.audio import decode, encode
from speech.tts import fix_wav_sizes


@lru_cache(maxsize=64)
def say(text: str, fmt: str = "wav") -> bytes:
    done = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "140", "-g", "6", "--stdout"],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=30,
    )
    wav = fix_wav_sizes(done.stdout)
    if fmt == "wav":
        return wav
    return encode(decode(wav, SpeechSettings()).samples, fmt)
