"""The two errors every entry point turns into a clear answer: a bad event and a bad configuration."""

from __future__ import annotations


class BadEvent(ValueError):
    """An event (or message, or request envelope) that is not what the function accepts; the message names the
    problem. Nothing has been changed when it is raised."""


class SettingsError(ValueError):
    """A configuration variable is missing or malformed."""
