"""Shopassist: a self-hosted conversational shopping assistant."""

__version__ = "0.1.0"
