"""File formats told apart by name: a blacklist ending in one of these suffixes is the text
format, any other the binary one (a module of its own: the CLI's parser needs it without the
readers' numpy)."""

from __future__ import annotations

__all__ = [
    "TEXT_BLACKLIST_SUFFIXES",
]

TEXT_BLACKLIST_SUFFIXES = (".txt", ".csv")
