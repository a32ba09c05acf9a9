"""Hook implementations of the 道路运输 plugin. Only @hookimpl functions here; logic lives beside this module."""

from __future__ import annotations

from core.hookspecs import hookimpl
from core.plugin_types import SectorInfo
from plugins.roadtransport import __version__

SECTOR = SectorInfo(
    code="roadtransport",
    name="道路运输",
    version=__version__,
    description="道路运输企业和城市客运企业：重大事故隐患判定标准（交通运输部，2023）、经营许可与车辆。",
    activities=("道路旅客运输", "道路货物运输", "道路危险货物运输", "城市客运", "汽车客运站"),
)


@hookimpl
def register_sector() -> SectorInfo:
    return SECTOR
