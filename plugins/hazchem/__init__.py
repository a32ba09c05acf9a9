"""危险化学品 (hazchem) sector plugin for anjian."""

__version__ = "0.1.0"
