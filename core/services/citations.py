"""Legal citations for documents: a rule reference as a court reads it (issue 15 item 5, R-E4).

Rule items are stored under internal references (``hazchem-2017-121#1``) and checklist items have their own
numbers (``1.1``); neither may appear on an enforcement document as if it were a statutory article. A document
cites the rule set by title and 文号 (or standard number) and the item by the source's own numbering:

- ``《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）》（安监总管三〔2017〕121号）第一项`` —
  a notice whose items are numbered 一、二、… (plain integers in the rule set);
- ``《重大火灾隐患判定方法》（GB 35181-2017）第6.1条`` and ``第4.1条a）`` — clauses of a standard;
- ``…（交办运〔2023〕52号）第三条（一）`` — the source's own article numbering, kept as written;
- ``《特种设备目录》（质检总局2014年第114号公告）代码3110`` — catalogue codes;
- ``《道路危险货物运输管理规定》（交通运输部令2019年第42号）关于“配备押运人员”的规定`` — where the rule set
  deliberately has no article numbers (they changed between amendments and were not verified), the item is named
  by its title, never by an invented article.

The rule set's metadata comes from the stored revision a run was judged with, else from the enabled plugins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.services.catalog import rule_texts

_CLAUSE = re.compile(r"^(\d+(?:\.\d+)+)([a-z]\))?$")
_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 20 → 二十, 99 → 九十九 (item numbers of notices; 1–99)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def item_label(kind: str, number: str, title: str | None) -> str:
    """The item part of a citation, by the shape of the source's numbering (module doc)."""
    number = number.strip()
    if kind == "catalogue":
        return f"代码{number}"
    if number.isdigit():
        return f"第{chinese_number(int(number))}项"
    clause = _CLAUSE.match(number)
    if clause:
        return f"第{clause[1]}条" + (clause[2].replace(")", "）") if clause[2] else "")
    if number.startswith("第"):
        return number.replace("(", "（").replace(")", "）")
    return f"关于“{title or number}”的规定"


def cite(title: str, document_number: str, kind: str, number: str, item_title: str | None) -> str:
    return f"《{title}》（{document_number}）{item_label(kind, number, item_title)}"


@dataclass(frozen=True)
class Citation:
    """``text``: the citation; ``quote``: the item's verified wording (None when not verified: never quoted)."""

    ref: str
    text: str
    quote: str | None


def citations(session: Session, refs: list[str]) -> dict[str, Citation]:
    """ref → :class:`Citation` for every resolvable reference (unknown references are left out: the caller
    prints nothing rather than an internal code)."""
    from core.plugins import plugins

    out: dict[str, Citation] = {}
    for ref, row in rule_texts(session, refs).items():
        rs = row.rule_set
        out[ref] = Citation(ref, cite(rs.title, rs.document_number, rs.kind, row.number, row.title),
                            row.text if row.verified else None)
    registry = plugins()
    for ref in refs:
        if ref in out:
            continue
        found = registry.rule_item(ref)
        if found:
            item, rs = found
            out[ref] = Citation(ref, cite(rs.title, rs.document_number, rs.kind, item.number, item.title),
                                item.text if item.verified else None)
    return out
