"""特种设备 (specialequip) sector plugin for anjian."""

__version__ = "0.1.0"
