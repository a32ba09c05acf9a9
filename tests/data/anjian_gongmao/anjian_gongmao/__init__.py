"""工贸 (industry and trade) sector plugin for anjian, distributed on its own as ``anjian-gongmao``.

The version is the installed distribution's (its dist-info), so the plugins page and the sector agree.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("anjian-gongmao")
except PackageNotFoundError:  # imported from a source tree without being installed
    __version__ = "0.0.0+unknown"
