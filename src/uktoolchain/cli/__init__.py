"""Thin commands: parse, call the core, print. ``main`` is the only place errors become messages."""
