"""Hook implementations of the 消防 plugin. Only @hookimpl functions here; logic lives beside this module."""

from __future__ import annotations

from core.hookspecs import hookimpl
from core.plugin_types import SectorInfo
from plugins.fire import __version__

SECTOR = SectorInfo(
    code="fire",
    name="消防",
    version=__version__,
    description="消防安全：重大火灾隐患判定（GB 35181）、消防安全重点单位、人员密集场所。",
    activities=("消防安全重点单位", "人员密集场所", "一般单位"),
)


@hookimpl
def register_sector() -> SectorInfo:
    return SECTOR
