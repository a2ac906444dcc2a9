"""Deciding a turn: the router, the action registry (intent to action), the flows behind forms,
the handlers that answer at once, and the fallback for messages no intent matched."""
