"""Shopassist: a self-hosted conversational shopping assistant. This package is its command line
(``shopassist``), the top layer: it builds :class:`services.Services` and runs the rest."""

from core import VERSION as __version__

__all__ = ["__version__"]
