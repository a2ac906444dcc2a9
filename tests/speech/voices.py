"""Test utterances: espeak-ng speech in each accepted format (shared with the benchmark)."""

from eval.speech.voices import say

__all__ = ["say"]
