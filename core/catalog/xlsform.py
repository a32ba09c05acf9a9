"""Checklist interchange as XLSForm (.xlsx): the format of ODK, KoboToolbox and most mobile survey tools.

Export: one ``begin group`` per section, one question per item (yes_no → ``select_one yes_no``, yes_no_na →
``select_one yes_no_na``, number → ``decimal``, text → ``text``, photo → ``image``); an item whose failure needs a
comment or a photo gets a follow-up question shown only when the answer fails (``relevant``). What XLSForm has no
column for is kept in ``anjian_*`` columns (pyxform ignores unknown columns): the item code, its basis, pass_when,
on_fail and points as JSON. The settings sheet carries ``form_id`` (checklist code), ``version`` and ``form_title``.

Import reads such a file back into a checklist mapping (for a NEW version: see
:func:`core.services.catalog.import_xlsform`); the follow-up rows are recognised by ``anjian_role`` and dropped.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook, load_workbook

SURVEY_COLUMNS = ["type", "name", "label", "hint", "required", "relevant", "parameters", "anjian_code", "anjian_basis",
                  "anjian_pass_when", "anjian_on_fail", "anjian_points", "anjian_role"]
#: Photos are scaled down on the phone before upload (evidence stays readable, uploads stay small).
PHOTO_PARAMETERS = "max-pixels=1600"
CHOICES = {
    "yes_no": [("yes", "是"), ("no", "否")],
    "yes_no_na": [("yes", "是"), ("no", "否"), ("na", "不适用")],
}
TYPE_OF_ANSWER = {"yes_no": "select_one yes_no", "yes_no_na": "select_one yes_no_na", "number": "decimal",
                  "text": "text", "photo": "image"}
ANSWER_OF_TYPE = {"select_one yes_no": "yes_no", "select_one yes_no_na": "yes_no_na", "decimal": "number",
                  "integer": "number", "text": "text", "image": "photo"}


class XLSFormError(ValueError):
    """The file is not a usable XLSForm; the message says what is wrong (Chinese)."""


def _name(prefix: str, code: str) -> str:
    """An XML name for an item or section code ("3.2" → "q_3_2")."""
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", code)


def _fails(name: str, answer: str, pass_when: Any) -> str | None:
    """XPath that is true when the answer fails (None when it cannot fail)."""
    if answer in ("yes_no", "yes_no_na") and pass_when in ("yes", "no"):
        return f"${{{name}}} = '{'no' if pass_when == 'yes' else 'yes'}'"
    if answer == "number" and isinstance(pass_when, Mapping):
        parts = []
        if "min" in pass_when:
            parts.append(f"${{{name}}} < {pass_when['min']}")
        if "max" in pass_when:
            parts.append(f"${{{name}}} > {pass_when['max']}")
        return f"${{{name}}} != '' and ({' or '.join(parts)})" if parts else None
    return None


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def export_xlsform(content: Mapping[str, Any]) -> bytes:
    """The .xlsx bytes of a checklist version (its validated content, e.g. ``StoredChecklist.content``)."""
    wb = Workbook()
    survey = wb.active
    survey.title = "survey"
    survey.append(SURVEY_COLUMNS)

    def row(**values: Any) -> None:
        survey.append([values.get(c, "") for c in SURVEY_COLUMNS])

    for section in content["sections"]:
        group = _name("s_", section["code"])
        row(type="begin group", name=group, label=f"{section['code']} {section['title']}",
            anjian_code=section["code"], anjian_role="section")
        for item in section["items"]:
            name = _name("q_", item["code"])
            hint = item.get("guidance") or ""
            if isinstance(item.get("pass_when"), Mapping):
                bounds = item["pass_when"]
                rng = "，".join(f"{'不小于' if k == 'min' else '不大于'} {bounds[k]}" for k in ("min", "max") if k in bounds)
                hint = f"{hint}（合格：{rng}）" if hint else f"合格：{rng}"
            row(type=TYPE_OF_ANSWER[item["answer"]], name=name, label=f"{item['code']} {item['question']}", hint=hint,
                required="yes", parameters=PHOTO_PARAMETERS if item["answer"] == "photo" else "", anjian_code=item["code"], anjian_basis=_json(item["basis"]),
                anjian_pass_when=_json(item.get("pass_when")), anjian_on_fail=_json(item.get("on_fail")),
                anjian_points=item.get("points") or 0, anjian_role="item")
            fails = _fails(name, item["answer"], item.get("pass_when"))
            on_fail = item.get("on_fail") or {}
            if fails and on_fail.get("comment_required"):
                row(type="text", name=f"{name}_comment", label=f"{item['code']} 不合格情况说明", required="yes",
                    relevant=fails, anjian_role="comment")
            if fails and on_fail.get("photo_required"):
                row(type="image", name=f"{name}_photo", label=f"{item['code']} 现场照片", required="yes",
                    relevant=fails, parameters=PHOTO_PARAMETERS, anjian_role="photo")
        row(type="end group", name=group, anjian_role="section")

    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    for list_name, options in CHOICES.items():
        for value, label in options:
            choices.append([list_name, value, label])

    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "anjian_sector", "anjian_scored", "anjian_description",
                     "anjian_applies_to"])
    settings.append([content["title"], content["code"], content["version"], content["sector"],
                     "yes" if content.get("scored") else "no", content.get("description") or "",
                     _json(content.get("applies_to"))])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rows(sheet) -> list[dict[str, Any]]:
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return []
    head = [str(h).strip() if h is not None else "" for h in rows[0]]
    out = []
    for values in rows[1:]:
        if values is None or all(v in (None, "") for v in values):
            continue
        out.append({h: v for h, v in zip(head, values) if h})
    return out


def _cell(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _load_json(row: Mapping[str, Any], key: str, where: str) -> Any:
    text = _cell(row, key)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise XLSFormError(f"{where} 列 {key}：不是有效的 JSON") from None


def import_xlsform(data: bytes) -> dict[str, Any]:
    """A checklist mapping (docs/rules_and_checklists.md) read from XLSForm bytes; ``sector`` is left to the caller.

    Raises :class:`XLSFormError` for a file that is not an XLSForm; the mapping itself is validated by the caller.
    """
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a non-xlsx file
        raise XLSFormError("无法读取文件：应为 XLSForm 格式的 .xlsx 文件") from None
    if "survey" not in wb.sheetnames or "settings" not in wb.sheetnames:
        raise XLSFormError("XLSForm 文件应有 survey 和 settings 工作表")
    settings = _rows(wb["settings"])
    if not settings:
        raise XLSFormError("settings 工作表为空：应有 form_id、version 和 form_title")
    s = settings[0]
    checklist: dict[str, Any] = {
        "code": _cell(s, "form_id"), "version": _cell(s, "version"), "title": _cell(s, "form_title"),
        "scored": _cell(s, "anjian_scored") in ("yes", "true", "1", "是"), "sections": [],
    }
    if _cell(s, "anjian_description"):
        checklist["description"] = _cell(s, "anjian_description")
    applies_to = _load_json(s, "anjian_applies_to", "settings 第 2 行")
    if applies_to is not None:
        checklist["applies_to"] = applies_to
    section: dict[str, Any] | None = None
    for n, row in enumerate(_rows(wb["survey"]), start=2):
        where = f"survey 第 {n} 行"
        kind, role = _cell(row, "type"), _cell(row, "anjian_role")
        if kind == "begin group":
            label = _cell(row, "label")
            code = _cell(row, "anjian_code") or label.split(" ", 1)[0]
            title = label[len(code):].strip() if label.startswith(code) else label
            section = {"code": code, "title": title or code, "items": []}
            checklist["sections"].append(section)
            continue
        if kind == "end group":
            section = None
            continue
        if role in ("comment", "photo") or kind in ("note", "calculate", "start", "end", "today", "deviceid"):
            continue
        if kind not in ANSWER_OF_TYPE:
            raise XLSFormError(f"{where}：不支持的题型 {kind!r}（支持：{'、'.join(ANSWER_OF_TYPE)}）")
        if section is None:
            section = {"code": "1", "title": "检查内容", "items": []}
            checklist["sections"].append(section)
        label = _cell(row, "label")
        code = _cell(row, "anjian_code") or _cell(row, "name")
        question = label[len(code):].strip() if label.startswith(code + " ") else label
        item: dict[str, Any] = {"code": code, "question": question, "answer": ANSWER_OF_TYPE[kind]}
        hint = _cell(row, "hint")
        pass_when = _load_json(row, "anjian_pass_when", where)
        if hint and isinstance(pass_when, Mapping) and "合格：" in hint:
            hint = re.sub(r"（?合格：[^）]*）?$", "", hint).strip()
        if hint:
            item["guidance"] = hint
        basis = _load_json(row, "anjian_basis", where)
        if basis is not None:
            item["basis"] = basis
        if pass_when is not None:
            item["pass_when"] = pass_when
        on_fail = _load_json(row, "anjian_on_fail", where)
        if on_fail is not None:
            item["on_fail"] = on_fail
        points = _cell(row, "anjian_points")
        if points:
            try:
                item["points"] = int(float(points))
            except ValueError:
                raise XLSFormError(f"{where} 列 anjian_points：应为整数") from None
        section["items"].append(item)
    return checklist
