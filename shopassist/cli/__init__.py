"""The ``shopassist`` command: ``main.py`` registers the commands, one module per group."""
