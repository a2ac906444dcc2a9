"""`shopassist bench speech`: recognition speed and the latency a voice customer waits.

Over the fixture shop (real index, conversation store and rules-only engine), the app is
served by uvicorn on 127.0.0.1. Utterances of about three seconds are synthesised with
espeak-ng and encoded as OGG/Opus. Two figures:

- real-time factor of recognition (recognition time / audio duration), in process, with the
  catalog vocabulary prompt the server uses;
- end-to-end latency over ``/ws/speech``: the utterance is streamed at real-time pace in
  100 ms chunks (as from a microphone, with partial transcripts running), and the clock runs
  from the ``end`` event (end of speech) to the first reply audio frame.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.config import SpeechSettings
from eval.dialogue.runner import ScenarioHarness
from eval.latency import percentile
from eval.speech.voices import say
from eval.web.servers import bench_server
from speech.audio import decode

UTTERANCES = (
    "do you have running shoes please",
    "tell me about the merino running socks",
    "what is your return policy",
    "I am looking for a desk lamp",
    "do you have insulated water bottles",
    "where is my order",
)
CHUNK_SECONDS = 0.1


@dataclass
class SpeechBench:
    rounds: int
    audio_seconds: list[float] = field(default_factory=list)
    rtf: list[float] = field(default_factory=list)
    asr_ms: list[float] = field(default_factory=list)
    to_transcript_ms: list[float] = field(default_factory=list)
    to_reply_ms: list[float] = field(default_factory=list)
    to_first_audio_ms: list[float] = field(default_factory=list)
    partials: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        def ms(values: list[float]) -> dict[str, float]:
            return {"p50": round(percentile(values, 0.5), 1), "p95": round(percentile(values, 0.95), 1)}

        return {
            "utterances": len(self.audio_seconds),
            "rounds": self.rounds,
            "mean_audio_seconds": round(sum(self.audio_seconds) / max(1, len(self.audio_seconds)), 2),
            "rtf_p50": round(percentile(self.rtf, 0.5), 3),
            "rtf_p95": round(percentile(self.rtf, 0.95), 3),
            "recognition_ms": ms(self.asr_ms),
            "end_to_transcript_ms": ms(self.to_transcript_ms),
            "end_to_reply_text_ms": ms(self.to_reply_ms),
            "end_to_first_audio_ms": ms(self.to_first_audio_ms),
            "partials": self.partials,
            "errors": self.errors,
            "load_average": [round(x, 2) for x in self.load_average],
            "cpu_count": os.cpu_count(),
        }


async def _stream(url: str, audio: bytes, seconds: float, bench: SpeechBench) -> None:
    import websockets

    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "format": "ogg"}))
        await ws.recv()
        step = max(1, int(len(audio) * CHUNK_SECONDS / seconds))
        for offset in range(0, len(audio), step):
            await ws.send(audio[offset : offset + step])
            await asyncio.sleep(CHUNK_SECONDS)
        ended = time.perf_counter()
        await ws.send(json.dumps({"type": "end"}))
        while True:
            message = await asyncio.wait_for(ws.recv(), timeout=120)
            elapsed = (time.perf_counter() - ended) * 1000
            if isinstance(message, bytes):
                bench.to_first_audio_ms.append(elapsed)
                return
            event = json.loads(message)
            if event["type"] == "partial":
                bench.partials += 1
            elif event["type"] == "transcript":
                bench.to_transcript_ms.append(elapsed)
            elif event["type"] == "reply":
                bench.to_reply_ms.append(elapsed)
            elif event["type"] == "error":
                bench.errors[event["code"]] = bench.errors.get(event["code"], 0) + 1
                return


def run_speech_bench(
    harness: ScenarioHarness, *, rounds: int = 3, progress: Callable[[str, int, int], None] | None = None
) -> SpeechBench:
    bench = SpeechBench(rounds)
    clips = [(say(text, "ogg"), decode(say(text), SpeechSettings()).samples) for text in UTTERANCES]
    with harness.assistant() as (_assistant, services), bench_server(services) as (app, port):
        voice = app.state.voice
        if voice is None:
            raise RuntimeError("the speech API did not load; see the log")
        url = f"ws://127.0.0.1:{port}/ws/speech"
        total = rounds * len(clips)
        # warm-up: one pass through each path, not timed
        voice.recognizer.transcribe(audio=clips[0][1], prompt=voice.prompt)
        asyncio.run(_stream(url, clips[0][0], len(clips[0][1]) / 16000, SpeechBench(0)))
        bench.load_average = os.getloadavg()
        done = 0
        for _ in range(rounds):
            for ogg, samples in clips:
                seconds = len(samples) / 16000
                heard = voice.recognizer.transcribe(audio=samples, prompt=voice.prompt)
                bench.audio_seconds.append(seconds)
                bench.asr_ms.append(heard.seconds * 1000)
                bench.rtf.append(heard.seconds / seconds)
                asyncio.run(_stream(url, ogg, seconds, bench))
                done += 1
                if progress is not None:
                    progress("speech turns", done, total)
    return bench
