"""Handlers that answer an intent at once, by domain: catalog, cart, policy, small talk."""
