"""消防 (fire) sector plugin for anjian."""

__version__ = "0.1.0"
