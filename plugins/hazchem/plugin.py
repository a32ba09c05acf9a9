"""Hook implementations of the 危险化学品 plugin. Only @hookimpl functions here; logic lives beside this module."""

from __future__ import annotations

from core.hookspecs import hookimpl
from core.plugin_types import SectorInfo
from plugins.hazchem import __version__

SECTOR = SectorInfo(
    code="hazchem",
    name="危险化学品",
    version=__version__,
    description="危险化学品生产、经营、使用、储存单位的安全监管：重大事故隐患判定（安监总管三〔2017〕121号等）、许可证与重大危险源。",
    activities=("生产", "经营", "使用", "储存"),
)


@hookimpl
def register_sector() -> SectorInfo:
    return SECTOR
