"""Organisation aggregates: the jurisdiction tree, enforcement agencies and enterprises (R-A1, R-A2)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TimestampMixin, VersionedMixin


class JurisdictionLevel(StrEnum):
    """Levels of the jurisdiction tree, top down. A 功能区 sits at county level (R-A1)."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    ZONE = "zone"
    TOWNSHIP = "township"
    VILLAGE = "village"
    GRID = "grid"

    @property
    def label(self) -> str:
        return JURISDICTION_LEVEL_LABELS[self]

    @property
    def rank(self) -> int:
        """Depth rank; ZONE ranks with COUNTY."""
        return _LEVEL_RANK[self]


JURISDICTION_LEVEL_LABELS = {
    JurisdictionLevel.PROVINCE: "省",
    JurisdictionLevel.CITY: "市",
    JurisdictionLevel.COUNTY: "县/区",
    JurisdictionLevel.ZONE: "功能区",
    JurisdictionLevel.TOWNSHIP: "乡镇/街道",
    JurisdictionLevel.VILLAGE: "村/社区",
    JurisdictionLevel.GRID: "网格",
}
_LEVEL_RANK = {
    JurisdictionLevel.PROVINCE: 1,
    JurisdictionLevel.CITY: 2,
    JurisdictionLevel.COUNTY: 3,
    JurisdictionLevel.ZONE: 3,
    JurisdictionLevel.TOWNSHIP: 4,
    JurisdictionLevel.VILLAGE: 5,
    JurisdictionLevel.GRID: 6,
}


class SupervisionLevel(StrEnum):
    """分级分类: which government level is the single supervising body of an enterprise (一企一监管主体)."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"

    @property
    def label(self) -> str:
        return {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇（街道）级"}[self.value]


class Jurisdiction(VersionedMixin, TimestampMixin, Base):
    """A node of the jurisdiction tree.

    ``path`` is the materialised path of ids (``/1/4/17/``): a subtree is ``path LIKE '/1/4/%'``, one indexed
    range scan, which keeps scope filters cheap at city scale. The service keeps it right when a node moves.
    """

    __tablename__ = "jurisdictions"
    __table_args__ = (
        Index("ix_jurisdictions_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
        {"comment": "行政区划/辖区树"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True, comment="上级辖区")
    level: Mapped[str] = mapped_column(String(20), comment="层级：省/市/县区/功能区/乡镇街道/村社区/网格")
    name: Mapped[str] = mapped_column(String(100), comment="名称")
    code: Mapped[str | None] = mapped_column(String(12), unique=True, comment="行政区划代码（有则填）")
    path: Mapped[str] = mapped_column(String(255), default="", comment="物化路径 /id/id/…/")
    #: GeoJSON geometry (Polygon or MultiPolygon, WGS-84 lon/lat) drawn on 一张图; set through
    #: core.services.boundaries, which validates it. ``boundary_schematic`` marks drawn-by-hand outlines (the demo's).
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="辖区边界（GeoJSON Polygon/MultiPolygon，WGS-84）")
    boundary_schematic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                                     comment="边界为示意（非测绘成果）")

    parent: Mapped[Jurisdiction | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Jurisdiction]] = relationship(back_populates="parent", order_by="Jurisdiction.id")

    @property
    def level_label(self) -> str:
        return JurisdictionLevel(self.level).label

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def __repr__(self) -> str:
        return f"<Jurisdiction {self.id} {self.name}>"


class Agency(VersionedMixin, TimestampMixin, Base):
    """An enforcement agency (执法机关), e.g. 厦门市翔安区应急管理局."""

    __tablename__ = "agencies"
    __table_args__ = {"comment": "执法机关"}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, comment="机关全称")
    short_name: Mapped[str] = mapped_column(String(20), comment="机关简称（用于文书编号，如“翔”）")
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True, comment="管辖辖区")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), comment="上级机关")
    people_government: Mapped[str | None] = mapped_column(String(100), comment="本级人民政府（复议机关）名称")
    court: Mapped[str | None] = mapped_column(String(100), comment="管辖人民法院名称")

    jurisdiction: Mapped[Jurisdiction] = relationship()
    parent: Mapped[Agency | None] = relationship(remote_side=[id])


class Enterprise(VersionedMixin, TimestampMixin, Base):
    """An enterprise under supervision (生产经营单位), R-A2.

    ``scope_path`` copies the path of the most specific node the enterprise belongs to (its grid cell if set,
    else its jurisdiction) so that every scope filter is a prefix match on this table alone.
    """

    __tablename__ = "enterprises"
    __table_args__ = (
        Index("ix_enterprises_scope_path", "scope_path", postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        {"comment": "企业（生产经营单位）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True, comment="单位名称")
    uscc: Mapped[str] = mapped_column(String(18), unique=True, comment="统一社会信用代码")
    address: Mapped[str | None] = mapped_column(String(300), comment="地址")
    longitude: Mapped[float | None] = mapped_column(Float, comment="经度（GCJ-02/WGS-84 按部署约定）")
    latitude: Mapped[float | None] = mapped_column(Float, comment="纬度")
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True, comment="属地辖区")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True, comment="所在网格")
    scope_path: Mapped[str] = mapped_column(String(255), default="", comment="数据权限路径（网格或辖区的物化路径）")
    industry_code: Mapped[str | None] = mapped_column(String(10), comment="国民经济行业分类代码（GB/T 4754）")
    industry_name: Mapped[str | None] = mapped_column(String(100), comment="行业名称")
    legal_representative: Mapped[str | None] = mapped_column(String(50), comment="法定代表人")
    actual_controller: Mapped[str | None] = mapped_column(String(50), comment="实际控制人")
    principal_name: Mapped[str | None] = mapped_column(String(50), comment="主要负责人")
    principal_phone: Mapped[str | None] = mapped_column(String(30), comment="主要负责人电话")
    safety_manager_name: Mapped[str | None] = mapped_column(String(50), comment="安全管理人员")
    safety_manager_phone: Mapped[str | None] = mapped_column(String(30), comment="安全管理人员电话")
    employee_count: Mapped[int | None] = mapped_column(Integer, comment="从业人员数")
    is_high_risk: Mapped[bool] = mapped_column(Boolean, default=False, comment="高危行业")
    is_above_scale: Mapped[bool] = mapped_column(Boolean, default=False, comment="规模以上")
    is_key_industry: Mapped[bool] = mapped_column(Boolean, default=False, comment="重点行业领域")
    is_small_micro: Mapped[bool] = mapped_column(Boolean, default=False, comment="中小微企业")
    supervising_agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id"), index=True, comment="监管主体（一企一监管主体）"
    )
    supervision_level: Mapped[str | None] = mapped_column(String(20), comment="分级分类监管层级")
    standardization_status: Mapped[str | None] = mapped_column(String(20), comment="安全生产标准化状态")
    standardization_grade: Mapped[str | None] = mapped_column(String(20), comment="安全生产标准化等级")
    insurance_company: Mapped[str | None] = mapped_column(String(100), comment="安责险承保机构")
    insurance_start: Mapped[date | None] = mapped_column(Date, comment="安责险起期")
    insurance_end: Mapped[date | None] = mapped_column(Date, comment="安责险止期")
    credit_class: Mapped[str | None] = mapped_column(String(10), comment="信用等级")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, comment="在营（false：注销/关闭）")

    jurisdiction: Mapped[Jurisdiction] = relationship(foreign_keys=[jurisdiction_id])
    grid: Mapped[Jurisdiction | None] = relationship(foreign_keys=[grid_id])
    supervising_agency: Mapped[Agency | None] = relationship()
    sectors: Mapped[list[EnterpriseSector]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="EnterpriseSector.sector"
    )

    @property
    def sector_codes(self) -> list[str]:
        return [s.sector for s in self.sectors]

    def __repr__(self) -> str:
        return f"<Enterprise {self.id} {self.name}>"


class EnterpriseSector(Base):
    """An enterprise's membership in one special rectification field (sector tag), with that sector's data.

    ``data`` is validated by the owning plugin's schema (``register_enterprise_fields``). Rows of a disabled
    plugin are kept untouched (R-P3): the core shows them as belonging to a plugin that is not enabled.
    """

    __tablename__ = "enterprise_sectors"
    __table_args__ = (
        Index("ix_enterprise_sectors_sector", "sector", "enterprise_id"),
        {"comment": "企业所属专项整治领域及领域数据"},
    )

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str] = mapped_column(String(40), primary_key=True, comment="领域插件代码，如 hazchem")
    activities: Mapped[list[str]] = mapped_column(JSON, default=list, comment="领域内类别，如 生产/经营/使用")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="领域数据（插件模式校验）")

    enterprise: Mapped[Enterprise] = relationship(back_populates="sectors")
