"""A fake sector plugin that drives the core tests, so they never depend on real regulatory data."""

from __future__ import annotations

from marshmallow import ValidationError, validates

from core.hookspecs import hookimpl
from core.plugin_types import Classification, EnterpriseFieldSpec, Finding, ObjectType, SectorInfo
from core.schemas.base import BaseSchema, Date, Str, length

__name__ = "fake_sector"  # noqa: A001 - the plugin name shown by the plugin manager

TRANSITIONS: list = []


class FakeFields(BaseSchema):
    licence_no = Str(required=True, validate=length(20))
    licence_valid_until = Date(allow_none=True)

    @validates("licence_no")
    def _licence(self, value: str, **kwargs) -> None:
        if not value.startswith("FK-"):
            raise ValidationError("许可证编号应以 FK- 开头")


@hookimpl
def register_sector() -> SectorInfo:
    return SectorInfo(code="fake", name="测试领域", version="9.9.9", activities=("生产", "经营"))


@hookimpl
def register_enterprise_fields() -> EnterpriseFieldSpec:
    return EnterpriseFieldSpec(sector="fake", schema=FakeFields)


@hookimpl
def register_object_types() -> list[ObjectType]:
    return [ObjectType(code="fake_tank", name="测试储罐", sector="fake")]


@hookimpl
def classify_hazard(finding: Finding) -> Classification | None:
    if finding.sector != "fake":
        return None
    if finding.rule_item == "fake/R1#1":
        return Classification(level="major", rule_item=finding.rule_item, decided_by="fake", reason="测试规则第1项")
    return Classification(level="general", decided_by="fake")


@hookimpl
def on_hazard_transition(event) -> None:
    TRANSITIONS.append(event)
