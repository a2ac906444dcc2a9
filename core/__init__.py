"""The bottom layer every other package imports: settings, the error hierarchy, logging with
redaction, the bundled models' paths, money and fact types, and the word tokenizer."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("shopassist")
except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
    VERSION = "0.0.0"
