"""Hook implementations of the 工贸 plugin. Only @hookimpl functions here; logic lives beside this module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anjian_gongmao import __version__
from anjian_gongmao.fields import GongmaoFields
from core.catalog import load_yaml_files
from core.hookspecs import hookimpl
from core.plugin_types import DocumentField, DocumentType, EnterpriseFieldSpec, ObjectType, SectorInfo

TEMPLATES = Path(__file__).resolve().parent / "templates"


@hookimpl
def register_sector() -> SectorInfo:
    return SectorInfo(
        code="gongmao",
        name="工贸",
        version=__version__,
        description="冶金、有色、建材、机械、轻工、纺织、烟草、商贸等工贸企业：粉尘防爆、涉氨制冷、有限空间作业。",
        activities=("冶金", "有色", "建材", "机械", "轻工", "纺织", "烟草", "商贸"),
    )


@hookimpl
def register_enterprise_fields() -> EnterpriseFieldSpec:
    return EnterpriseFieldSpec(sector="gongmao", schema=GongmaoFields, template="gongmao/enterprise_section.html",
                               example={"dust_explosion": True, "ammonia_refrigeration": True,
                                        "liquid_ammonia_tonnes": 12.5, "confined_spaces": 3})


@hookimpl
def register_rule_sets() -> list[dict[str, Any]]:
    return load_yaml_files("anjian_gongmao", "rules")


@hookimpl
def register_checklists() -> list[dict[str, Any]]:
    return load_yaml_files("anjian_gongmao", "checklists")


@hookimpl
def register_object_types() -> list[ObjectType]:
    return [ObjectType(code="gongmao_confined_space", name="有限空间作业点", sector="gongmao")]


@hookimpl
def register_template_dirs() -> list[str]:
    return [str(TEMPLATES)]


@hookimpl
def register_document_types() -> list[DocumentType]:
    return [DocumentType(
        code="gongmao_dust_notice", name="粉尘防爆专项检查告知书", number_code="应急粉告",
        template="gongmao/doc_gongmao_dust_notice.html", sector="gongmao",
        fields=(DocumentField("workshop", "涉粉作业场所"),
                DocumentField("findings", "检查发现的情况", kind="textarea", max_length=2000),
                DocumentField("reply_by", "书面回复日期", kind="date")),
        description="工贸插件的示例文书：只有填写项和中性文字，不含法律条文。")]
