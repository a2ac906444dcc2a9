"""Telegram connector (python-telegram-bot v22): the same assistant for customers on Telegram."""

import os

# Opt in to python-telegram-bot's coming behaviour (time periods as timedelta, v22.2+) so it
# does not warn on every flood-control error; the connector reads both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")
