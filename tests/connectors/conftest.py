"""Every connector's tests use the session's fixture shop with the real dialogue engine (rules
only: fast and deterministic): the ``harness`` fixture of tests/conftest.py."""
