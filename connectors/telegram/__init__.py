"""Telegram connector (python-telegram-bot v22): the same assistant for customers on Telegram."""
