"""The 危险化学品 plugin's 安全生产标准化 criteria (register_assessment_criteria, R-S1).

Two sets, both honest about what is known:

* ``hazchem-121-veto`` — the 20 judgments of the 重大生产安全事故隐患判定标准 (安监总管三〔2017〕121号) as 否决项
  (veto items) joining the core element 5 安全风险管控及隐患排查治理. Each item's text *is* the rule item's text,
  generated from the plugin's rule set at load time (one source of legal text, never copied by hand), with the rule
  item's own ``verified`` mark. That an enterprise with a 重大事故隐患 cannot reach a grade is the platform's
  convention pending the text of the grading rules (应急〔2021〕83号 conditions were not obtained, see
  /work/shared/verified/hazchem-and-standardization.md §3); the standard scores are conventional too. Both are said
  in the set's ``source`` and shown on every assessment that uses it.
* ``hazchem-gb45673-2025`` — GB 45673-2025《危险化学品企业安全生产标准化通用规范》 (mandatory, in force
  2025-11-01 ✅) as a *pending* set: its requirements were not obtained, so it has no items; assessments name it as
  in force but not loaded instead of inventing its content.
"""

from __future__ import annotations

from typing import Any

from plugins.hazchem import catalog

RULE_SET = "hazchem-2017-121"
#: Core element (GB/T 33000-2016) the veto items join: 重大隐患 are the subject of 隐患排查治理.
ELEMENT = "5"
#: Conventional standard score per veto item (score_source: conventional).
VETO_SCORE = 5.0


def _rule_set(code: str) -> dict[str, Any]:
    return next(rs for rs in catalog.loaded_rule_sets() if rs["code"] == code)


def veto_criteria() -> dict[str, Any]:
    rs = _rule_set(RULE_SET)
    return {
        "code": "hazchem-121-veto",
        "title": "危险化学品企业重大生产安全事故隐患否决项",
        "standard": f"{rs['document_number']}《{rs['title']}》",
        "issuer": rs.get("issuer"),
        "effective_from": str(rs["effective_from"]),
        "text_status": rs["text_status"],
        "score_source": "conventional",
        "source": (f"评分项文字取自本插件规则集 {RULE_SET}（逐条核实标记随规则条目）。将重大事故隐患作为标准化否决项、"
                   f"每项标准分 {VETO_SCORE:g} 分，是平台约定：应急〔2021〕83号《企业安全生产标准化建设定级办法》"
                   "的定级条件原文尚未取得，取得后按原文调整。"),
        "sector": "hazchem",
        "extends": "gbt33000-2016",
        "items": [{
            "code": f"HC121-{item['number']}",
            "element": ELEMENT,
            "text": item["text"],
            "score": VETO_SCORE,
            "verified": item["verified"],
            "clause": f"第{item['number']}条",
            "rule_item": f"{RULE_SET}#{item['number']}",
            "veto": True,
            "evidence": "现场核查记录、隐患排查治理台账",
            "deduction_rules": "存在本条所列情形（判定为重大事故隐患）的，本项不得分并否决。",
        } for item in rs["items"]],
    }


def pending_criteria() -> dict[str, Any]:
    return {
        "code": "hazchem-gb45673-2025",
        "title": "危险化学品企业安全生产标准化通用规范",
        "standard": "GB 45673-2025",
        "issuer": None,
        "effective_from": "2025-11-01",
        "text_status": "pending",
        "score_source": "none",
        "source": ("强制性国家标准，2025-04-25 发布、2025-11-01 实施（✅ cy-tech.net/article/723.html、"
                   "yxiu.cn/finance/jujiao/594117.html）；条文未取得，平台未载入评分项。"),
        "sector": "hazchem",
        "extends": "gbt33000-2016",
        "items": [],
    }


def criteria() -> list[dict[str, Any]]:
    return [veto_criteria(), pending_criteria()]
