"""A fake sector plugin that drives the core tests, so they never depend on real regulatory data."""

from __future__ import annotations

from datetime import date

from marshmallow import ValidationError, validates

from core.catalog import load_yaml_files
from core.hookspecs import hookimpl
from core.plugin_types import Classification, DatedItem, EnterpriseFieldSpec, Finding, ObjectType, SectorInfo
from core.schemas.base import BaseSchema, Date, Str, length

__name__ = "fake_sector"

#: Rule items that make a fake finding major: the legacy test reference and the fake rule set's item 1.
MAJOR_RULE_ITEMS = {"fake/R1#1": "测试规则第1项", "fake-2020-r1#1": "测规〔2020〕1号 第1项"}

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
    return EnterpriseFieldSpec(sector="fake", schema=FakeFields,
                               example={"licence_no": "FK-0001", "licence_valid_until": "2027-03-31"})


@hookimpl
def register_object_types() -> list[ObjectType]:
    return [ObjectType(code="fake_tank", name="测试储罐", sector="fake")]


@hookimpl
def classify_hazard(finding: Finding) -> Classification | None:
    if finding.sector != "fake":
        return None
    if finding.rule_item in MAJOR_RULE_ITEMS:
        return Classification(level="major", rule_item=finding.rule_item, decided_by="fake",
                              reason=MAJOR_RULE_ITEMS[finding.rule_item])
    return Classification(level="general", decided_by="fake")


@hookimpl
def register_rule_sets() -> list[dict]:
    return load_yaml_files("tests.plugins", "fake_data/rules")


@hookimpl
def register_checklists() -> list[dict]:
    return load_yaml_files("tests.plugins", "fake_data/checklists")


@hookimpl
def register_dated_items(sector: str, data: dict) -> list[DatedItem] | None:
    if sector != "fake" or not data.get("licence_valid_until"):
        return None
    due = data["licence_valid_until"]
    due = date.fromisoformat(due) if isinstance(due, str) else due
    return [DatedItem(label=f"测试许可证（{data.get('licence_no', '')}）", due=due, key="licence")]


@hookimpl
def on_hazard_transition(event) -> None:
    TRANSITIONS.append(event)


#: The fake sector's 标准化 scoring criteria (register_assessment_criteria): three items joining core elements of
#: GB/T 33000-2016, one of them a 否决项. Test data, not regulation.
FAKE_CRITERIA = {
    "code": "fake-criteria-2020", "title": "测试领域安全生产标准化评分细则", "standard": "测标〔2020〕1号",
    "effective_from": "2020-01-01", "text_status": "verified", "score_source": "standard", "source": "测试数据",
    "sector": "fake", "extends": "gbt33000-2016",
    "items": [
        {"code": "F1", "element": "4", "text": "测试储罐设置液位报警", "score": 40, "verified": True,
         "deduction_rules": "未设置扣40分；报警失效扣20分", "evidence": "报警器检测报告"},
        {"code": "F2", "element": "5", "text": "测试领域重大隐患已整改", "score": 50, "verified": True,
         "veto": True, "deduction_rules": "存在未整改的重大隐患即否决", "evidence": "隐患整改记录"},
        {"code": "F3", "element": "3", "text": "测试岗位人员持证上岗", "score": 10, "verified": True},
    ],
}


@hookimpl
def register_assessment_criteria() -> list[dict]:
    return [FAKE_CRITERIA]
