"""Checklist interchange as XLSForm (R-P2): export any stored version, prove with pyxform that it converts to an
XForm, and import an XLSForm into a NEW checklist version (an existing version is refused)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from openpyxl import Workbook, load_workbook
from pyxform.xls2xform import convert
from sqlalchemy import select

from core.catalog.registry import thaw
from core.catalog.schemas import ChecklistSchema
from core.catalog.xlsform import export_xlsform, import_xlsform
from core.models import AuditEntry, StoredChecklist
from core.services import catalog
from core.services.errors import Conflict, PermissionDenied, ValidationFailed

XF = "{http://www.w3.org/2002/xforms}"


@pytest.fixture()
def synced(app, session):
    catalog.sync_catalog(session)
    return app.extensions["anjian"].checklists[("fake-basic", "1.0")]


def _sheet(data: bytes, name: str) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data), read_only=True)[name].iter_rows(values_only=True))


def test_export_converts_with_pyxform(synced):
    """R-P2: the export is a valid XLSForm: pyxform turns it into an XForm with every item and the follow-ups."""
    data = export_xlsform(thaw(synced.content))
    warnings: list[str] = []
    xform = convert(data, warnings=warnings, file_type=".xlsx").xform
    assert warnings == []
    root = ET.fromstring(xform)
    binds = {b.get("nodeset"): b for b in root.iter(f"{XF}bind")}
    assert set(binds) >= {"/data/s_1/q_1_1", "/data/s_1/q_1_2", "/data/s_2/q_2_1", "/data/s_2/q_2_2",
                          "/data/s_2/q_2_3", "/data/s_1/q_1_1_photo", "/data/s_2/q_2_1_comment"}
    assert binds["/data/s_1/q_1_2"].get("type") == "decimal"
    assert binds["/data/s_2/q_2_2"].get("type") == "binary"
    # The photo of a failed 1.1 (pass when "yes") is asked only when the answer is "no".
    assert binds["/data/s_1/q_1_1_photo"].get("relevant").replace(" ", "") == "/data/s_1/q_1_1='no'"
    version = next(root.iter(f"{XF}instance"))[0].get("version")
    assert version == "1.0"
    labels = [el.text for el in root.iter(f"{XF}label")]
    assert "1.1 储罐区是否设置泄漏检测报警装置？" in labels and "2 安全管理" in labels
    settings = _sheet(data, "settings")
    assert settings[1][:3] == ("测试领域基础检查表", "fake-basic", "1.0")
    choices = _sheet(data, "choices")
    assert ("yes_no_na", "na", "不适用") in choices
    survey = _sheet(data, "survey")
    head = survey[0]
    assert head[:7] == ("type", "name", "label", "hint", "required", "relevant", "parameters")
    row = dict(zip(head, next(r for r in survey if r[1] == "q_2_1")))
    assert row["anjian_basis"] == '[{"rule": "fake-2019-duty#第五条"}, {"law": "《测试安全法》第十一条"}]'


def test_round_trip_keeps_the_checklist(synced):
    """R-P2: import(export(x)) is x again (answer types, basis, pass_when, on_fail, points, sections)."""
    back = import_xlsform(export_xlsform(thaw(synced.content)))
    back["sector"] = "fake"
    loaded = ChecklistSchema().load(back)
    loaded.pop("file")
    assert thaw(loaded) == thaw(synced.content)


def _new_version(synced, version: str = "1.1", **changes) -> bytes:
    content = thaw(synced.content)
    content["version"] = version
    content.update(changes)
    return export_xlsform(content)


def test_import_creates_a_new_version(synced, session):
    """R-P2: an XLSForm becomes a new stored version; the old one is untouched."""
    row = catalog.import_xlsform(session, _new_version(synced, title="测试领域基础检查表（修订）"), sector="fake")
    assert (row.code, row.version, row.title, len(row.items)) == ("fake-basic", "1.1", "测试领域基础检查表（修订）", 5)
    assert row.items[0].on_fail["rule"] == "fake-2020-r1#1"
    versions = session.scalars(select(StoredChecklist.version).where(StoredChecklist.code == "fake-basic")
                               .order_by(StoredChecklist.id)).all()
    assert versions == ["1.0", "1.1"]
    assert session.scalar(select(AuditEntry.summary).where(AuditEntry.object_type == "checklist",
                                                           AuditEntry.action == "import")) == \
        "导入检查表 fake-basic 版本 1.1（XLSForm）"


def test_import_refuses_an_existing_version(synced, session):
    with pytest.raises(Conflict) as excinfo:
        catalog.import_xlsform(session, _new_version(synced, version="1.0"), sector="fake")
    assert excinfo.value.message == "检查表 fake-basic 版本 1.0 已存在：导入须使用新的版本号"


def test_import_validates_like_plugin_data(synced, session):
    """A basis that does not resolve is refused with the item and field named."""
    content = thaw(synced.content)
    content["version"] = "2.0"
    content["sections"][0]["items"][0]["basis"] = [{"rule": "fake-2020-r1#99"}]
    with pytest.raises(ValidationFailed) as excinfo:
        catalog.import_xlsform(session, export_xlsform(content), sector="fake")
    assert excinfo.value.errors["file"] == [
        "XLSForm fake-basic 2.0 条目 1.1 字段 basis[0].rule: 判定标准 fake-2020-r1 中没有条目 99（fake-2020-r1#99）"]
    with pytest.raises(ValidationFailed) as excinfo:
        catalog.import_xlsform(session, b"not a workbook", sector="fake")
    assert excinfo.value.errors["file"] == ["无法读取文件：应为 XLSForm 格式的 .xlsx 文件"]


def test_import_of_a_foreign_xlsform_without_basis_is_refused(app, session):
    """An XLSForm made elsewhere has no anjian columns: items without a basis are refused, types are mapped."""
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label"])
    ws.append(["select_one yes_no", "fire_exit", "安全出口是否畅通？"])
    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "version"])
    settings.append(["外来检查表", "fake-foreign", "1"])
    buf = io.BytesIO()
    wb.save(buf)
    raw = import_xlsform(buf.getvalue())
    assert raw["sections"] == [{"code": "1", "title": "检查内容", "items": [
        {"code": "fire_exit", "question": "安全出口是否畅通？", "answer": "yes_no"}]}]
    with pytest.raises(ValidationFailed) as excinfo:
        catalog.import_xlsform(session, buf.getvalue(), sector="fake")
    assert "XLSForm fake-foreign 1 条目 fire_exit 字段 basis: 必填项" in excinfo.value.errors["file"]


def test_import_is_for_admins(synced, session, world):
    with pytest.raises(PermissionDenied):
        catalog.import_xlsform(session, _new_version(synced), sector="fake", actor=world.user(session, "ent1_mgr"))


def test_cli_import_xlsform(synced, runner, session, tmp_path):
    """R-P2: ``anjian catalog import-xlsform FILE --sector X``."""
    path = tmp_path / "form.xlsx"
    path.write_bytes(_new_version(synced, version="1.2"))
    result = runner.invoke(args=["catalog", "import-xlsform", str(path), "--sector", "fake"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "已导入检查表 fake-basic 版本 1.2（5 条）"
    again = runner.invoke(args=["catalog", "import-xlsform", str(path), "--sector", "fake"])
    assert again.exit_code == 1 and "版本 1.2 已存在" in again.output


def test_download_link_on_the_checklist_page(synced, login):
    """R-P2: the checklist page offers the XLSForm; the download is that version's export."""
    client = login("ent1_mgr")
    html = client.get("/catalog/checklists/fake-basic/1.0").get_data(as_text=True)
    assert 'href="/catalog/checklists/fake-basic/1.0/xlsform"' in html
    resp = client.get("/catalog/checklists/fake-basic/1.0/xlsform")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == "attachment; filename=fake-basic-1.0.xlsx"
    assert _sheet(resp.data, "settings")[1][1:3] == ("fake-basic", "1.0")
