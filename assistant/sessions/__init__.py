"""A conversation: its append-only event log, the state folded from it, its slots and what the
customer was shown, and the store that keeps it (with a per-conversation lock)."""
