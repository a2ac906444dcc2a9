"""Speech synthesis behind the ``TTS`` Protocol; espeak-ng implements it (a neural voice can
replace it without touching the routes)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from typing import Protocol

from core.config import SpeechSettings
from core.errors import SpeechUnavailableError

log = logging.getLogger(__name__)
_MAX_CHARS = 4000


class TTS(Protocol):
    def synthesize(self, *, text: str) -> bytes:
        """The text spoken, as a WAV file."""
        ...


class EspeakTTS:
    """espeak-ng as a subprocess; the text goes through stdin, never the command line."""

    def __init__(self, settings: SpeechSettings, *, binary: str = "espeak-ng") -> None:
        path = shutil.which(binary)
        if path is None:
            raise SpeechUnavailableError(
                "espeak-ng is not installed (apt-get install espeak-ng, or `make install`)"
            )
        self.binary = path
        self.voice = settings.voice
        self.rate = settings.rate_wpm

    def synthesize(self, *, text: str) -> bytes:
        spoken = " ".join(text.split())[:_MAX_CHARS] or "."
        try:
            done = subprocess.run(
                [self.binary, "-v", self.voice, "-s", str(self.rate), "--stdout"],
                input=spoken.encode(),
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpeechUnavailableError(f"Speech synthesis failed: {exc}") from exc
        if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
            log.error(
                "espeak-ng failed",
                extra={"rc": done.returncode, "stderr": done.stderr[:200].decode(errors="replace")},
            )
            raise SpeechUnavailableError("Speech synthesis failed")
        return fix_wav_sizes(done.stdout)


def fix_wav_sizes(wav: bytes) -> bytes:
    """espeak-ng writing to a pipe cannot seek back, so its RIFF and data sizes are 0x7fffffff
    placeholders; write the real ones so every WAV reader accepts the file."""
    if len(wav) < 44 or wav[:4] != b"RIFF" or wav[36:40] != b"data":
        return wav
    data = bytearray(wav)
    data[4:8] = (len(wav) - 8).to_bytes(4, "little")
    data[40:44] = (len(wav) - 44).to_bytes(4, "little")
    return bytes(data)
