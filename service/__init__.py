"""Tap or Tarp: a server-authoritative multiplayer chess clock on Redis."""

__version__ = "0.1.0"
