"""Document clauses that depend on the law in force, as dated editions (issue 15, R-E4).

The 2016 national 文书式样 (安监总政法〔2016〕72号) name two 复议机关 in the 责令限期整改指令书: 「…向____人民政府
或者____申请行政复议…」. Since 2024-01-01 the revised 《行政复议法》 gives a local government department's decision
one 复议机关, the 本级人民政府, so the second blank has no lawful filling. The clause is therefore data with an
effective date: a document takes the edition in force on its own date and keeps it (the edition code and the
text are stored in the document's data, so its PDF is never re-rendered with another text).

Only the 2016 sentence is a verified national text (shared reference: the verified 2016 template set §3.2). The
2024 edition is the same sentence with one 复议机关; no verified national template for it was found, so it is marked
``verified=False`` and shown as 待核对 wherever editions are listed (``anjian documents editions``).

:func:`agency_problems` says what an agency's configuration would print wrongly; agencies are validated with it
when they are saved, and ``anjian documents check-agencies`` lists the existing ones that fail it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class ClauseEdition:
    """One dated wording of a clause. ``segments``: literal text and ``{blank}`` names, in order."""

    clause: str
    code: str
    effective_from: date | None
    effective_to: date | None
    segments: tuple[str, ...]
    verified: bool
    source: str

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to)


APPEAL = "appeal"

EDITIONS: tuple[ClauseEdition, ...] = (
    ClauseEdition(
        APPEAL, "2016", None, date(2023, 12, 31),
        ("如果不服本指令，可以依法在60日内向", "{government}", "或者", "{parent}",
         "申请行政复议，或者在6个月内依法向", "{court}", "提起行政诉讼，但本指令不停止执行，法律另有规定的除外。"),
        verified=True,
        source="《安全生产执法程序规定》（安监总政法〔2016〕72号）文书式样：责令限期整改指令书"),
    ClauseEdition(
        APPEAL, "2024", date(2024, 1, 1), None,
        ("如果不服本指令，可以依法在60日内向", "{government}",
         "申请行政复议，或者在6个月内依法向", "{court}", "提起行政诉讼，但本指令不停止执行，法律另有规定的除外。"),
        verified=False,
        source="2016 式样的复议句，按 2024-01-01 施行的修订《行政复议法》只列一个复议机关（本级人民政府）；"
               "未找到经核对的全国文书式样，待核对"),
)


#: The 指令书's sentence naming which items are 重大事故隐患 (issue 15 item 6). Found in one local 2016-template
#: system only (verified reference §3.2, "local addition, B only", ◐), not in the national set: unverified.
MAJOR = "major"
#: The measures an inspector decides for 重大事故隐患 (issue 15 item 6). No verified text of the law's sentence was
#: obtained, so the wording is neutral and unverified; the measures themselves are configuration
#: (``ORDER_MAJOR_MEASURES``), and the article is named as the issue gives it, to be checked.
MEASURES = "measures"

EDITIONS += (
    ClauseEdition(
        MAJOR, "local-2016", None, None, ("其中事故隐患第", "{items}", "项属于重大隐患。"),
        verified=False,
        source="一个地方系统的 2016 式样指令书所加句子（全国式样中未见），待核对"),
    ClauseEdition(
        MEASURES, "local-2021", None, None,
        ("对上述第", "{items}", "项重大事故隐患，依据《中华人民共和国安全生产法》第六十五条，责令你单位：",
         "{measures}", "。"),
        verified=False,
        source="本平台中性表述；条号及措施名称待与《安全生产法》（2021年修正）第六十五条原文核对"),
)


def edition(clause: str, on: date) -> ClauseEdition:
    """The edition of ``clause`` in force on ``on`` (the editions of one clause do not overlap)."""
    for e in EDITIONS:
        if e.clause == clause and e.in_force(on):
            return e
    raise LookupError(f"no edition of {clause!r} in force on {on}")


def appeal_clause(agency: dict[str, str], on: date) -> dict[str, Any]:
    """The 复议/诉讼 sentence of a 指令书 dated ``on`` for the issuing agency (``documents._agency_data``):
    ``{"edition": "2024", "verified": False, "segments": [{"text": …} | {"fill": …}, …]}``."""
    return filled(APPEAL, on, {"government": agency.get("people_government", ""),
                               "parent": agency.get("parent_name", ""), "court": agency.get("court", "")})


def filled(clause: str, on: date, values: dict[str, str]) -> dict[str, Any]:
    """Any clause of the edition in force on ``on`` with its blanks filled from ``values`` (stored with the
    document, as :func:`appeal_clause`)."""
    e = edition(clause, on)
    segments = [{"fill": values[s[1:-1]]} if s.startswith("{") else {"text": s} for s in e.segments]
    return {"edition": e.code, "verified": e.verified, "segments": segments}


#: Courts that never hear a first-instance suit against a local government department: 《行政诉讼法》第十四条
#: gives first instance to the 基层人民法院 except the cases of 第十五条 (e.g. suits against 县级以上地方人民政府,
#: not its departments).
_HIGHER_COURTS = ("中级人民法院", "高级人民法院", "最高人民法院")


def agency_problems(people_government: str | None, court: str | None) -> dict[str, list[str]]:
    """What a document of this agency would print wrongly, by field (empty when none)."""
    problems: dict[str, list[str]] = {}
    gov = (people_government or "").strip()
    if not gov:
        problems["people_government"] = ["请填写本级人民政府（行政复议机关），否则文书的复议机关为空"]
    elif not gov.endswith("人民政府"):
        problems["people_government"] = ["行政复议机关应为本级人民政府，名称以“人民政府”结尾"]
    name = (court or "").strip()
    if not name:
        problems["court"] = ["请填写管辖行政诉讼的人民法院，否则文书的法院为空"]
    elif not name.endswith("人民法院"):
        problems["court"] = ["管辖法院名称应以“人民法院”结尾"]
    elif name.endswith(_HIGHER_COURTS):
        problems["court"] = [("对县级以上地方人民政府工作部门的行政行为提起诉讼，第一审由基层人民法院管辖"
                              "（《行政诉讼法》第十四、十五条）：请填写基层人民法院（或集中管辖的基层人民法院）")]
    return problems
