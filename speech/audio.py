"""Decoding uploaded audio with PyAV to 16 kHz mono float32, with the checks the speech API
makes before recognition: size, format, corruption, duration and silence."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import av
import numpy as np

from core.config import SpeechSettings
from core.errors import (
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioError,
    NoSpeechError,
    UnsupportedAudioError,
)

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FORMATS = ("wav", "ogg", "webm", "mp3")
# PyAV names of the containers we accept (WebM is demuxed by "matroska,webm").
_CONTAINERS = {"wav", "ogg", "matroska,webm", "mp3"}
_CODECS = {"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8", "opus", "vorbis", "mp3", "mp3float"}


@dataclass(frozen=True)
class Audio:
    """Decoded audio: 16 kHz mono float32 samples in [-1, 1]."""

    samples: np.ndarray
    source_format: str

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def check_size(size: int, settings: SpeechSettings) -> None:
    if size == 0:
        raise EmptyAudioError("The audio is empty", errors=[{"field": "audio", "message": "no bytes"}])
    if size > settings.max_bytes:
        raise AudioTooLongError(
            f"The audio is {size} bytes; the limit is {settings.max_bytes}",
            errors=[{"field": "audio", "message": f"at most {settings.max_bytes} bytes"}],
            limit_bytes=settings.max_bytes,
        )


def decode(data: bytes, settings: SpeechSettings) -> Audio:
    """Decode WAV, OGG (Opus/Vorbis), WebM (Opus) or MP3 bytes; raise a clear error otherwise."""
    check_size(len(data), settings)
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except av.error.InvalidDataError as exc:
        raise UnsupportedAudioError(
            "The audio is not in a format I can read: send WAV, OGG/Opus, WebM or MP3",
            errors=[{"field": "audio", "message": "unrecognised format"}],
            formats=list(FORMATS),
        ) from exc
    except (av.error.FFmpegError, OSError) as exc:
        raise CorruptAudioError(f"The audio could not be opened: {exc}") from exc
    with container:
        fmt = container.format.name
        if fmt not in _CONTAINERS or not container.streams.audio:
            raise UnsupportedAudioError(
                f"Unsupported audio container {fmt!r}: send WAV, OGG/Opus, WebM or MP3",
                errors=[{"field": "audio", "message": f"container {fmt}"}],
                formats=list(FORMATS),
            )
        stream = container.streams.audio[0]
        if stream.codec_context.name not in _CODECS:
            raise UnsupportedAudioError(
                f"Unsupported audio codec {stream.codec_context.name!r}: use PCM, Opus, Vorbis or MP3",
                errors=[{"field": "audio", "message": f"codec {stream.codec_context.name}"}],
            )
        samples = _resample(container, stream, settings)
    if samples.size == 0:
        raise CorruptAudioError("The audio holds no decodable samples")
    return Audio(samples=samples, source_format=_short_name(fmt))


def _short_name(fmt: str) -> str:
    return "webm" if fmt.startswith("matroska") else fmt


def _resample(
    container: av.container.InputContainer, stream: av.AudioStream, settings: SpeechSettings
) -> np.ndarray:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    limit = int(settings.max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunk = out.to_ndarray().reshape(-1)
                chunks.append(chunk)
                total += chunk.size
            if total > limit:
                raise AudioTooLongError(
                    f"The audio is longer than {settings.max_seconds:g} seconds",
                    errors=[{"field": "audio", "message": f"at most {settings.max_seconds:g} seconds"}],
                    limit_seconds=settings.max_seconds,
                )
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as exc:
        if total == 0:
            raise CorruptAudioError(f"The audio could not be decoded: {exc}") from exc
        # A truncated stream (e.g. a cut upload): use what decoded cleanly.
        log.warning("audio stream ended in an error after %.1f s", total / SAMPLE_RATE)
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if samples.size > limit:
        raise AudioTooLongError(
            f"The audio is longer than {settings.max_seconds:g} seconds",
            limit_seconds=settings.max_seconds,
        )
    return samples


def loudest_dbfs(samples: np.ndarray, *, window_seconds: float = 0.05) -> float:
    """Level of the loudest window in dBFS (0 is full scale; digital silence is -inf)."""
    size = max(1, int(window_seconds * SAMPLE_RATE))
    usable = samples[: len(samples) // size * size]
    if usable.size == 0:
        usable = samples
    frames = usable.reshape(-1, size) if usable.size >= size else usable.reshape(1, -1)
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    peak = float(rms.max()) if rms.size else 0.0
    return float(20 * np.log10(peak)) if peak > 0 else float("-inf")


def check_speech_present(audio: Audio, settings: SpeechSettings) -> None:
    """Reject silence before spending time on recognition."""
    if audio.seconds < 0.1:
        raise NoSpeechError(
            f"The audio is only {audio.seconds * 1000:.0f} ms long; say something and try again"
        )
    level = loudest_dbfs(audio.samples)
    if level < settings.silence_dbfs:
        raise NoSpeechError(
            "The audio is silent; I could not hear anything",
            level_dbfs=None if level == float("-inf") else round(level, 1),
        )


PCM_FORMAT = "pcm_s16le"
STREAM_FORMATS = (*FORMATS, PCM_FORMAT)


def decode_pcm(data: bytes, sample_rate: int, settings: SpeechSettings) -> Audio:
    """Raw little-endian 16-bit mono PCM (what telephone gateways stream) at any rate."""
    check_size(len(data), settings)
    if sample_rate < 8000 or sample_rate > 48000:
        raise UnsupportedAudioError(f"Unsupported PCM sample rate {sample_rate}: use 8000 to 48000 Hz")
    usable = len(data) // 2 * 2
    pcm = np.frombuffer(data[:usable], dtype="<i2")
    if sample_rate == SAMPLE_RATE:
        samples = pcm.astype(np.float32) / 32768.0
    else:
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        outs = [*resampler.resample(frame), *resampler.resample(None)]
        samples = np.concatenate([o.to_ndarray().reshape(-1) for o in outs]).astype(np.float32)
    if samples.size > settings.max_seconds * SAMPLE_RATE:
        raise AudioTooLongError(
            f"The audio is longer than {settings.max_seconds:g} seconds", limit_seconds=settings.max_seconds
        )
    return Audio(samples=samples, source_format=PCM_FORMAT)


def decode_any(data: bytes, fmt: str, sample_rate: int, settings: SpeechSettings) -> Audio:
    if fmt == PCM_FORMAT:
        return decode_pcm(data, sample_rate, settings)
    audio = decode(data, settings)
    if audio.source_format != fmt:
        raise UnsupportedAudioError(
            f"The stream was announced as {fmt} but holds {audio.source_format}",
            errors=[{"field": "format", "message": f"announced {fmt}, got {audio.source_format}"}],
        )
    return audio


_ENCODERS = {
    "ogg": ("ogg", "libopus", 48_000),
    "webm": ("webm", "libopus", 48_000),
    "mp3": ("mp3", "libmp3lame", 44_100),
}


def encode(samples: np.ndarray, fmt: str, *, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Mono float32 samples as an OGG/Opus, WebM/Opus, MP3 or WAV (16-bit) file (tests, bench)."""
    out = io.BytesIO()
    container_name, codec, rate = _ENCODERS.get(fmt, ("wav", "pcm_s16le", sample_rate))
    with av.open(out, mode="w", format=container_name) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        if not isinstance(stream, av.AudioStream):  # pragma: no cover - an audio codec gives one
            raise TypeError(f"{codec} is not an audio codec")
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        frame = av.AudioFrame.from_ndarray(
            samples.astype(np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = sample_rate
        for piece in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(piece):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()
