"""Hook implementations of the 特种设备 plugin. Only @hookimpl functions here; logic lives beside this module."""

from __future__ import annotations

from core.hookspecs import hookimpl
from core.plugin_types import SectorInfo
from plugins.specialequip import __version__

SECTOR = SectorInfo(
    code="specialequip",
    name="特种设备",
    version=__version__,
    description="特种设备使用单位：重大事故隐患判定准则（GB 45067-2024）、设备登记与定期检验。",
    activities=("锅炉", "压力容器", "压力管道", "电梯", "起重机械", "客运索道", "大型游乐设施", "场（厂）内专用机动车辆"),
)


@hookimpl
def register_sector() -> SectorInfo:
    return SECTOR
