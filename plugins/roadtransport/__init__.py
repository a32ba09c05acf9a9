"""道路运输 (roadtransport) sector plugin for anjian."""

__version__ = "0.1.0"
