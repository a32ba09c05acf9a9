"""Enterprise import and export as Excel/CSV (R-A2, R-N3).

Files are built in the tests (openpyxl for .xlsx; CSV as UTF-8 with BOM and as GBK) and imported through the web
route ``/enterprises/import``, the service :func:`core.services.importexport.import_enterprises` and the CLI.
Import is all or nothing: a file with any bad row reports every error (row, column, message) and writes nothing.
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, datetime

import pytest
from flask import g
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from core.models import AuditEntry, Enterprise
from core.services import enterprises as ent_service
from core.services import importexport
from core.services.actors import SYSTEM
from core.services.errors import PermissionDenied, ValidationFailed
from core.services.importexport import COLUMNS, import_enterprises
from tests.factories import uscc
from tests.forms import get_form

HEADERS = [c.header for c in COLUMNS]
KEY_TO_HEADER = {c.key: c.header for c in COLUMNS}
XA_AGENCY = "厦门市翔安区应急管理局"


# --- helpers -----------------------------------------------------------------------------------------------------


@pytest.fixture()
def login(login):
    """The conftest ``login`` fixture, made safe for several users in one test.

    Requests of the test client run inside the test's own app context, so Flask-Login's per-context cache
    (``g._login_user``) would keep the first user of the test for every later client; drop it before each request.
    """

    def _login(username: str):
        client = login(username)
        plain_open = client.open

        def open_(*args, **kwargs):
            g.pop("_login_user", None)
            return plain_open(*args, **kwargs)

        client.open = open_
        return client

    return _login


def make_row(seq: int, **over) -> dict:
    """One spreadsheet row (column key → cell text) for a new enterprise in 翔安区/新店街道, 新店1网格."""
    row = {
        "uscc": uscc(seq),
        "name": f"导入企业{seq}有限公司",
        "address": f"新店街道导入路{seq}号",
        "jurisdiction": "翔安区/新店街道",
        "grid": "新店1网格",
        "industry_code": "C2614",
        "industry_name": "有机化学原料制造",
        "principal_name": "李四",
        "employee_count": "50",
        "is_high_risk": "是",
        "is_above_scale": "否",
        "supervising_agency": XA_AGENCY,
        "supervision_level": "县级",
    }
    row.update(over)
    return row


def _cells(rows: list[dict], headers: list[str]) -> list[list]:
    by_header = {h.rstrip("*"): k for k, h in KEY_TO_HEADER.items()}
    return [[r.get(by_header.get(h.rstrip("*"), h), "") for h in headers] for r in rows]


def to_csv(rows: list[dict], encoding: str = "utf-8-sig", headers: list[str] | None = None) -> bytes:
    headers = headers or HEADERS
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    writer.writerows(_cells(rows, headers))
    return buf.getvalue().encode(encoding)


def to_xlsx(rows: list[dict], headers: list[str] | None = None) -> bytes:
    headers = headers or HEADERS
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for cells in _cells(rows, headers):
        ws.append([None if c == "" else c for c in cells])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def storage(data: bytes, filename: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=filename)


def post_file(client, data: bytes, filename: str, **kwargs):
    """Choose the file on the import page and submit its form."""
    return get_form(client, "/enterprises/import").attach("file", data, filename).submit(client, **kwargs)


def counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count(Enterprise.id))), session.scalar(select(func.count(AuditEntry.id))))


def by_uscc(session, code: str) -> Enterprise | None:
    return session.scalar(select(Enterprise).where(Enterprise.uscc == code))


def error_cells(html: str) -> list[tuple[str, str, str]]:
    """(row, column, message) triples of the error table on the import page."""
    return re.findall(r'<td data-label="行">([^<]*)</td><td data-label="列">([^<]*)</td>'
                      r'<td data-label="错误">([^<]*)</td>', html)


def read_csv(body: bytes) -> list[dict]:
    assert body.startswith(b"\xef\xbb\xbf"), "CSV export must start with a UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(body: bytes) -> list[dict]:
    ws = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


USCC_H = "统一社会信用代码*"


# --- template ----------------------------------------------------------------------------------------------------


def test_template_xlsx_has_headers_example_and_notes(login):
    resp = login("xa_reg").get("/enterprises/import/template.xlsx")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    for header in ("统一社会信用代码*", "单位名称*", "所属辖区*", "所在网格", "高危行业", "专项领域", "监管主体"):
        assert header in rows[0]
    assert len(rows) == 2  # header + one example row
    assert wb.sheetnames == ["企业", "填写说明"]


def test_template_csv_has_bom_and_headers(login):
    resp = login("xa_reg").get("/enterprises/import/template.csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert resp.data.startswith(b"\xef\xbb\xbf")
    assert rows[0] == HEADERS
    assert rows[0][:2] == ["统一社会信用代码*", "单位名称*"]


def test_template_unknown_format_and_permissions(login):
    assert login("xa_reg").get("/enterprises/import/template.pdf").status_code == 404
    assert login("ent1_mgr").get("/enterprises/import/template.csv").status_code == 403
    assert login("ent1_mgr").get("/enterprises/import").status_code == 403
    assert login("xa_insp").get("/enterprises/import").status_code == 403
    page = login("xa_reg").get("/enterprises/import")
    assert page.status_code == 200 and "校验并导入" in page.get_data(as_text=True)


# --- valid imports -------------------------------------------------------------------------------------------------


def test_web_import_csv_creates_then_reimport_updates(login, session, world):
    client = login("xa_reg")
    rows = [make_row(501), make_row(502, grid="", jurisdiction="350213"),
            make_row(503, jurisdiction="福建省/厦门市/翔安区/马巷街道", grid="马巷1网格", is_high_risk="否",
                     is_small_micro="是", supervision_level="乡镇（街道）级")]
    data = to_csv(rows)
    ents_before, audit_before = counts(session)

    resp = post_file(client, data, "企业.csv")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/enterprises/")
    page = client.get("/enterprises/").get_data(as_text=True)
    assert "导入成功：新增 3 家，更新 0 家" in page

    assert counts(session) == (ents_before + 3, audit_before + 3)
    e1 = by_uscc(session, uscc(501))
    assert e1.name == "导入企业501有限公司"
    assert e1.jurisdiction_id == world.nodes["新店街道"] and e1.grid_id == world.nodes["新店1网格"]
    assert e1.scope_path == world.node(session, "新店1网格").path
    assert (e1.is_high_risk, e1.is_above_scale, e1.is_small_micro) == (True, False, False)
    assert e1.employee_count == 50 and e1.supervision_level == "county"
    assert e1.supervising_agency_id == world.agencies["翔安局"]
    e2 = by_uscc(session, uscc(502))
    assert e2.jurisdiction_id == world.nodes["翔安区"] and e2.grid_id is None
    assert e2.scope_path == world.node(session, "翔安区").path
    e3 = by_uscc(session, uscc(503))
    assert e3.grid_id == world.nodes["马巷1网格"] and e3.is_small_micro is True
    assert e3.supervision_level == "township"
    entries = list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == "enterprise")
                                   .order_by(AuditEntry.id.desc()).limit(3)))
    assert {e.action for e in entries} == {"create"}
    assert {e.actor_name for e in entries} == {"xa_reg"}
    assert {e.object_id for e in entries} == {str(e1.id), str(e2.id), str(e3.id)}
    versions = {e.id: e.version for e in (e1, e2, e3)}

    # The same file again: every row updates its enterprise, none is created, nothing changes.
    resp = post_file(client, data, "企业.csv", follow_redirects=True)
    assert resp.status_code == 200
    assert "导入成功：新增 0 家，更新 3 家" in resp.get_data(as_text=True)
    assert counts(session) == (ents_before + 3, audit_before + 3)  # no change → no audit entry
    session.expire_all()
    assert {e.id: e.version for e in (e1, e2, e3)} == versions

    # A changed cell updates that enterprise only, audited with before/after.
    rows[0]["address"] = "新店街道新地址8号"
    resp = post_file(client, to_csv(rows), "企业.csv", follow_redirects=True)
    assert "导入成功：新增 0 家，更新 3 家" in resp.get_data(as_text=True)
    assert counts(session) == (ents_before + 3, audit_before + 4)
    entry = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert (entry.action, entry.object_id, entry.actor_name) == ("update", str(e1.id), "xa_reg")
    assert entry.before == {"address": "新店街道导入路501号"}
    assert entry.after == {"address": "新店街道新地址8号"}
    session.expire_all()
    assert e1.address == "新店街道新地址8号" and e1.version == versions[e1.id] + 1


def test_service_import_gbk_csv(session, world):
    data = to_csv([make_row(511, name="翔安区甲乙丙化工有限公司", address="马巷街道（东）路1号"),
                   make_row(512)], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GBK
    xa_reg = world.user(session, "xa_reg")
    report = import_enterprises(session, xa_reg, storage(data, "gbk.CSV"))
    assert report.ok, report.errors
    assert (report.rows, report.created, report.updated) == (2, 2, 0)
    ent = by_uscc(session, uscc(511))
    assert ent.name == "翔安区甲乙丙化工有限公司" and ent.address == "马巷街道（东）路1号"


def test_service_import_xlsx_with_typed_cells(session, world):
    """Excel gives numbers, dates and datetimes as such; they import as the same values as text would."""
    row = make_row(521, employee_count=120, longitude=118.2468, latitude=24.6372,
                   insurance_company="某某财产保险股份有限公司", insurance_start=datetime(2025, 1, 1),
                   insurance_end=date(2025, 12, 31), credit_class="A", is_key_industry="是",
                   principal_phone="13800000000")
    report = import_enterprises(session, SYSTEM, storage(to_xlsx([row, make_row(522)]), "企业.xlsx"))
    assert report.ok, report.errors
    assert (report.created, report.updated) == (2, 0)
    ent = by_uscc(session, uscc(521))
    assert ent.employee_count == 120
    assert (ent.longitude, ent.latitude) == (118.2468, 24.6372)
    assert (ent.insurance_start, ent.insurance_end) == (date(2025, 1, 1), date(2025, 12, 31))
    assert ent.credit_class == "A" and ent.is_key_industry is True and ent.principal_phone == "13800000000"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "enterprise",
                                                    AuditEntry.object_id == str(ent.id)))
    assert entry.actor_name == "system" and entry.after["uscc"] == uscc(521)


def test_import_updates_sectors_and_keeps_their_data(session, world):
    """A row for E1 naming its sector keeps the sector data that a spreadsheet cannot carry."""
    e1 = world.ent(session, "E1")
    row = make_row(1, name=e1.name, sectors="测试领域：生产、经营", address=e1.address)
    report = import_enterprises(session, world.user(session, "xa_reg"), storage(to_csv([row]), "e1.csv"))
    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 1)
    session.expire_all()
    (sector,) = e1.sectors
    assert sector.sector == "fake" and sector.activities == ["生产", "经营"]
    assert sector.data == {"licence_no": "FK-001"}


def test_uscc_in_the_file_is_normalised_before_matching(session, world):
    """A code typed in lower case with spaces still finds its enterprise (an update, not a duplicate)."""
    e3 = world.ent(session, "E3")
    typed = f"{e3.uscc[:8].lower()} {e3.uscc[8:]}"
    row = make_row(3, uscc=typed, name=e3.name, jurisdiction="马巷街道", grid="马巷1网格", address="马巷新址")
    report = import_enterprises(session, SYSTEM, storage(to_csv([row]), "x.csv"))
    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 1)
    assert e3.address == "马巷新址" and e3.uscc == uscc(3)


# --- bad input -------------------------------------------------------------------------------------------------------


BAD_ROWS_EXPECTED = {
    # row: (column, message fragment)
    3: ("统一社会信用代码", "校验位错误"),
    4: ("单位名称", "必填项"),
    5: ("所属辖区", "找不到辖区“翔安区/不存在街道”"),
    6: ("所在网格", "找不到唯一的网格“新店1网格”"),
    7: ("统一社会信用代码", "与第 2 行重复"),
    8: ("高危行业", "应为是/否"),
    9: ("专项领域", "未知或未启用的领域“不存在领域”"),
}


def bad_rows() -> list[dict]:
    good = uscc(531)
    broken = good[:-1] + ("0" if good[-1] != "0" else "1")
    return [
        make_row(531),                                              # row 2: valid
        make_row(532, uscc=broken),                                 # row 3: bad check digit
        make_row(533, name=""),                                     # row 4: empty name
        make_row(534, jurisdiction="翔安区/不存在街道"),            # row 5: unknown jurisdiction
        make_row(535, jurisdiction="马巷街道", grid="新店1网格"),   # row 6: grid outside the jurisdiction
        make_row(536, uscc=good),                                   # row 7: duplicate of row 2
        make_row(537, is_high_risk="可能"),                         # row 8: bad 是/否
        make_row(538, sectors="不存在领域"),                        # row 9: unknown sector
        make_row(539),                                              # row 10: valid
    ]


def test_service_reports_every_error_and_writes_nothing(session, world):
    before = counts(session)
    report = import_enterprises(session, world.user(session, "xa_reg"), storage(to_csv(bad_rows()), "bad.csv"))
    assert not report.ok
    assert (report.created, report.updated, report.rows) == (0, 0, 9)
    got = {(e.row, e.column) for e in report.errors}
    assert got == {(row, col) for row, (col, _) in BAD_ROWS_EXPECTED.items()}
    for err in report.errors:
        assert BAD_ROWS_EXPECTED[err.row][1] in err.message, err
    assert counts(session) == before
    assert by_uscc(session, uscc(531)) is None and by_uscc(session, uscc(539)) is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_web_reports_every_error_with_row_and_column_and_writes_nothing(login, session, fmt):
    before = counts(session)
    data = to_csv(bad_rows()) if fmt == "csv" else to_xlsx(bad_rows())
    resp = post_file(login("xa_reg"), data, f"bad.{fmt}")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert f"发现 {len(BAD_ROWS_EXPECTED)} 处错误，未导入任何数据" in html
    cells = error_cells(html)
    assert {(int(r), c) for r, c, _ in cells} == {(row, col) for row, (col, _) in BAD_ROWS_EXPECTED.items()}
    for r, _, message in cells:
        assert BAD_ROWS_EXPECTED[int(r)][1] in message
    assert counts(session) == before


def test_sector_data_errors_are_readable(session, world):
    """A new enterprise tagged with a sector whose plugin requires data (the fake sector's licence_no) cannot get
    it from a spreadsheet: the row is refused with a readable message, not a Python dict."""
    before = counts(session)
    report = import_enterprises(session, SYSTEM, storage(to_csv([make_row(540, sectors="测试领域：生产")]), "x.csv"))
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, "专项领域", "第 1 个领域、data、licence_no：必填项")]
    assert (report.created, report.updated) == (0, 0)
    session.rollback()
    assert counts(session) == before


def test_supervision_level_and_agency_and_date_errors(session, world):
    rows = [make_row(541, supervision_level="村级"), make_row(542, supervising_agency="不存在的局"),
            make_row(543, insurance_start="2025-13-01"), make_row(544, employee_count="很多"),
            make_row(545, insurance_start="2025-06-01", insurance_end="2025-01-01")]
    before = counts(session)
    report = import_enterprises(session, SYSTEM, storage(to_csv(rows), "x.csv"))
    assert {(e.row, e.column) for e in report.errors} == {
        (2, "监管层级"), (3, "监管主体"), (4, "安责险起期"), (5, "从业人员数"), (6, "安责险止期")}
    messages = {e.row: e.message for e in report.errors}
    assert "应为以下之一" in messages[2] and "不存在的局" in messages[3] and "YYYY-MM-DD" in messages[4]
    assert messages[5] == "应为整数" and messages[6] == "安责险止期不能早于起期"
    assert counts(session) == before


def test_row_of_enterprise_outside_scope_is_refused(login, session, world):
    """xa_reg (翔安区) may not overwrite E4 (同安区) by importing its USCC, nor create one in 同安区."""
    e4 = world.ent(session, "E4")
    version, name = e4.version, e4.name
    rows = [make_row(551), make_row(4, uscc=e4.uscc, name="被改名的公司", jurisdiction="翔安区/新店街道")]
    before = counts(session)
    resp = post_file(login("xa_reg"), to_csv(rows), "scope.csv")
    assert resp.status_code == 422
    cells = error_cells(resp.get_data(as_text=True))
    assert cells == [("3", "统一社会信用代码", "该代码已由其他辖区登记，不能在此导入")]
    assert counts(session) == before
    session.expire_all()
    assert (e4.name, e4.version) == (name, version)

    # A new enterprise placed in another district is refused as well, with nothing written.
    rows = [make_row(552), make_row(553, jurisdiction="同安区/大同街道", grid="大同1网格")]
    report = import_enterprises(session, world.user(session, "xa_reg"), storage(to_csv(rows), "x.csv"))
    assert [(e.row, e.column, e.message) for e in report.errors] == [(3, "所属辖区", "所属辖区不在您的管辖范围内")]
    assert (report.created, report.updated) == (0, 0)
    session.rollback()  # the caller's duty when report.ok is false
    assert counts(session) == before

    # The regulator of 同安区 may.
    report = import_enterprises(session, world.user(session, "ta_reg"),
                                storage(to_csv([make_row(553, jurisdiction="同安区/大同街道", grid="大同1网格")]),
                                        "x.csv"))
    assert report.ok and report.created == 1


def test_enterprise_users_cannot_import(session, world):
    with pytest.raises(PermissionDenied):
        import_enterprises(session, world.user(session, "ent1_mgr"), storage(to_csv([make_row(561)]), "x.csv"))
    with pytest.raises(PermissionDenied):
        import_enterprises(session, world.user(session, "grid1"), storage(to_csv([make_row(561)]), "x.csv"))


FILE_ERRORS = [
    ("企业.txt", b"whatever", "请上传 .xlsx 或 .csv 文件"),
    ("企业.xls", b"\xd0\xcf\x11\xe0 old excel", "请上传 .xlsx 或 .csv 文件"),
    ("企业.xlsx", b"this is not a zip", "文件不是有效的 Excel (.xlsx) 文件"),
    ("企业.xlsx", b"PK\x03\x04 broken zip", "无法读取 Excel 文件，请使用导入模板"),
    ("企业.csv", b"", "文件是空的"),
    ("企业.csv", b"\xef\xbb\xbf\r\n,,,\r\n", "文件是空的"),
    ("企业.csv", b"\x80\x81\xff\xfe", "无法识别 CSV 文件的编码（支持 UTF-8 和 GBK）"),
]


@pytest.mark.parametrize(("filename", "data", "message"), FILE_ERRORS)
def test_bad_files_get_a_clear_chinese_error(login, session, filename, data, message):
    before = counts(session)
    resp = post_file(login("xa_reg"), data, filename)
    assert resp.status_code == 422
    assert ("文件", message) in [(c, m) for _, c, m in error_cells(resp.get_data(as_text=True))]
    with pytest.raises(ValidationFailed) as exc:
        import_enterprises(session, SYSTEM, storage(data, filename))
    assert exc.value.errors == {"file": [message]}
    assert counts(session) == before


def test_no_file_selected(login, session):
    client = login("xa_reg")
    resp = get_form(client, "/enterprises/import").submit(client)  # submitted without choosing a file
    assert resp.status_code == 422
    assert ("文件", "请选择要导入的文件") in [(c, m) for _, c, m in error_cells(resp.get_data(as_text=True))]
    with pytest.raises(ValidationFailed) as exc:
        import_enterprises(session, SYSTEM, None)
    assert exc.value.errors == {"file": ["请选择要导入的文件"]}


def test_missing_required_and_unknown_headers(login, session):
    headers = [h for h in HEADERS if h not in ("统一社会信用代码*", "所属辖区*")] + ["备注"]
    before = counts(session)
    report = import_enterprises(session, SYSTEM, storage(to_csv([make_row(571)], headers=headers), "x.csv"))
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (1, "表头", "无法识别的列：备注"),
        (1, "表头", "缺少必填列：统一社会信用代码*、所属辖区*"),
    ]
    resp = post_file(login("xa_reg"), to_xlsx([make_row(571)], headers=headers), "x.xlsx")
    assert resp.status_code == 422
    assert "缺少必填列：统一社会信用代码*、所属辖区*" in resp.get_data(as_text=True)
    assert counts(session) == before


def test_headers_without_star_and_only_required_columns(session):
    """Headers may be typed without the 必填 star; a file with the required columns only is enough."""
    data = to_csv([{"uscc": uscc(581), "name": "最少列有限公司", "jurisdiction": "350213"}],
                  headers=["统一社会信用代码", "单位名称", "所属辖区"])
    report = import_enterprises(session, SYSTEM, storage(data, "min.csv"))
    assert report.ok, report.errors
    assert by_uscc(session, uscc(581)).name == "最少列有限公司"


def test_too_many_rows_refused(app, session):
    old = app.config["IMPORT_MAX_ROWS"]
    app.config["IMPORT_MAX_ROWS"] = 2
    try:
        with pytest.raises(ValidationFailed) as exc:
            import_enterprises(session, SYSTEM, storage(to_csv([make_row(i) for i in (591, 592, 593)]), "x.csv"))
    finally:
        app.config["IMPORT_MAX_ROWS"] = old
    assert exc.value.errors == {"file": ["一次最多导入 2 行，请分批导入"]}


# --- CLI -------------------------------------------------------------------------------------------------------------


def test_cli_import_good_file(runner, session, tmp_path):
    path = tmp_path / "企业.xlsx"
    path.write_bytes(to_xlsx([make_row(601), make_row(602)]))
    before = counts(session)
    result = runner.invoke(args=["import-enterprises", str(path)])
    assert result.exit_code == 0, result.output
    assert "导入成功：新增 2 家，更新 0 家" in result.output
    assert counts(session) == (before[0] + 2, before[1] + 2)
    entry = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert entry.actor_name == "system" and entry.action == "create"


def test_cli_import_bad_file_lists_errors_and_writes_nothing(runner, session, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(to_csv(bad_rows(), encoding="gbk"))
    before = counts(session)
    result = runner.invoke(args=["import-enterprises", str(path)])
    assert result.exit_code == 1
    assert "第 3 行 [统一社会信用代码] 统一社会信用代码校验位错误，请核对" in result.output
    assert "第 7 行 [统一社会信用代码] 与第 2 行重复" in result.output
    assert "第 9 行 [专项领域]" in result.output
    assert f"{len(BAD_ROWS_EXPECTED)} 处错误，未导入任何数据" in result.output
    assert counts(session) == before


@pytest.mark.parametrize(("filename", "data", "message"), [FILE_ERRORS[0], FILE_ERRORS[4]])
def test_cli_import_unreadable_file_is_a_clear_error(runner, session, tmp_path, filename, data, message):
    path = tmp_path / filename
    path.write_bytes(data)
    result = runner.invoke(args=["import-enterprises", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a crash


# --- export ----------------------------------------------------------------------------------------------------------


def ent_usccs(world, session, *keys: str) -> set[str]:
    return {world.ent(session, k).uscc for k in keys}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_contains_exactly_the_users_scope(login, session, world, fmt):
    read = read_csv if fmt == "csv" else read_xlsx
    cases = {"xa_reg": ("E1", "E2", "E3"), "ta_reg": ("E4",), "city_reg": ("E1", "E2", "E3", "E4"),
             "xa_insp": ("E1", "E2", "E3")}
    for username, keys in cases.items():
        resp = login(username).get(f"/enterprises/export.{fmt}")
        assert resp.status_code == 200, username
        assert "attachment" in resp.headers["Content-Disposition"]
        rows = read(resp.data)
        assert {r[USCC_H] for r in rows} == ent_usccs(world, session, *keys), username
        assert len(rows) == len(keys)
    admin_rows = read(login("admin").get(f"/enterprises/export.{fmt}").data)
    assert len(admin_rows) == session.scalar(select(func.count(Enterprise.id)))


def test_export_rows_are_in_the_import_format(login, session, world):
    resp = login("xa_reg").get("/enterprises/export.csv")
    assert resp.mimetype == "text/csv"
    body = resp.data
    assert list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[0] == HEADERS
    rows = {r["单位名称*"]: r for r in read_csv(body)}
    e1 = rows["测试E1有限公司"]
    assert e1[USCC_H] == world.ent(session, "E1").uscc
    assert e1["所属辖区*"] == "福建省/厦门市/翔安区/新店街道"
    assert e1["所在网格"] == "新店1网格"
    assert (e1["高危行业"], e1["规模以上"], e1["中小微企业"]) == ("是", "是", "否")
    assert e1["监管主体"] == XA_AGENCY
    assert e1["专项领域"] == "测试领域：生产"
    assert rows["测试E2有限公司"]["专项领域"] == "" and rows["测试E2有限公司"]["中小微企业"] == "是"


@pytest.mark.parametrize(("query", "keys"), [
    ("is_high_risk=true", ("E1",)),
    ("is_high_risk=false", ("E2", "E3")),
    ("sector=fake", ("E1",)),
    ("q=测试E2", ("E2",)),
    ("jurisdiction_id={马巷街道}", ("E3",)),
    ("jurisdiction_id={同安区}", ()),  # outside xa_reg's scope: nothing, never E4
    ("is_small_micro=true&is_high_risk=false", ("E2",)),
])
def test_export_honours_filters(login, session, world, query, keys):
    query = query.format(**world.nodes)
    client = login("xa_reg")
    csv_rows = read_csv(client.get(f"/enterprises/export.csv?{query}").data)
    xlsx_rows = read_xlsx(client.get(f"/enterprises/export.xlsx?{query}").data)
    expected = ent_usccs(world, session, *keys)
    assert {r[USCC_H] for r in csv_rows} == expected
    assert {r[USCC_H] for r in xlsx_rows} == expected


def test_export_permissions(login):
    assert login("grid1").get("/enterprises/export.csv").status_code == 403
    assert login("ent1_mgr").get("/enterprises/export.xlsx").status_code == 403
    assert login("xa_reg").get("/enterprises/export.pdf").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_reimports_cleanly(login, session, world, fmt):
    """Round trip: an unedited export re-imports as updates of the same enterprises and changes nothing."""
    client = login("xa_reg")
    # Give the enterprises every kind of value the format carries, and one closed enterprise.
    e2 = world.ent(session, "E2")
    ent_service.update_enterprise(session, SYSTEM, e2.id, {
        "version": e2.version, "is_active": False, "longitude": 118.25, "latitude": 24.6,
        "insurance_company": "某保险公司", "insurance_start": date(2025, 1, 1), "insurance_end": date(2025, 12, 31),
        "credit_class": "B", "supervision_level": "county", "employee_count": 12, "principal_phone": "0592-1234567"})
    session.commit()
    exported = client.get(f"/enterprises/export.{fmt}").data
    snapshot = {e.uscc: (e.version, e.is_active, e.insurance_end, e.longitude, [s.sector for s in e.sectors])
                for e in (world.ent(session, k) for k in ("E1", "E2", "E3"))}
    before = counts(session)

    resp = post_file(client, exported, f"企业清单.{fmt}", follow_redirects=True)
    assert resp.status_code == 200
    assert "导入成功：新增 0 家，更新 3 家" in resp.get_data(as_text=True)
    assert counts(session) == before  # nothing changed, so nothing audited
    session.expire_all()
    after = {e.uscc: (e.version, e.is_active, e.insurance_end, e.longitude, [s.sector for s in e.sectors])
             for e in (world.ent(session, k) for k in ("E1", "E2", "E3"))}
    assert after == snapshot
    assert world.ent(session, "E1").sectors[0].data["licence_no"] == "FK-001"


def test_export_then_import_into_another_district_is_refused(login, session, world):
    """ta_reg cannot take over 翔安区's enterprises by importing xa_reg's export."""
    exported = login("xa_reg").get("/enterprises/export.csv").data
    before = counts(session)
    report = import_enterprises(session, world.user(session, "ta_reg"), storage(exported, "x.csv"))
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (row, "所属辖区", "所属辖区不在您的管辖范围内") for row in (2, 3, 4)]
    assert (report.created, report.updated) == (0, 0)
    assert counts(session) == before


def test_scope_errors_are_reported_with_the_other_errors(session, world):
    """Out-of-scope rows are found in the same pass as bad cells, so one upload lists every problem."""
    e4 = world.ent(session, "E4")
    rows = [make_row(701, uscc=e4.uscc),                                   # row 2: E4 belongs to 同安区
            make_row(702, jurisdiction="350212", grid=""),                 # row 3: new, in 同安区
            make_row(703, name="x"),                                       # row 4: name too short
            make_row(704, jurisdiction="新店街道/新店1网格", grid="")]     # row 5: a grid as 所属辖区
    report = import_enterprises(session, world.user(session, "xa_reg"), storage(to_csv(rows), "x.csv"))
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, "统一社会信用代码", "该代码已由其他辖区登记，不能在此导入"),
        (3, "所属辖区", "所属辖区不在您的管辖范围内"),
        (4, "单位名称", "长度应在 2 到 200 个字符之间"),
        (5, "所属辖区", "所属辖区不能是网格，请在“所在网格”中选择网格"),
    ]


# --- performance -----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_import_5000_rows(session, world, capsys):
    """R-A2: thousands of rows. The requirement is under 30 s on SQLite; the time is printed, not asserted."""
    grids = [("翔安区/新店街道", "新店1网格"), ("翔安区/新店街道", "新店2网格"), ("350213", ""),
             ("马巷街道", "马巷1网格")]
    rows = []
    for i in range(5000):
        area, grid = grids[i % len(grids)]
        rows.append(make_row(10_000 + i, jurisdiction=area, grid=grid, is_high_risk="是" if i % 3 else "否",
                             is_small_micro="是" if i % 2 else "否", employee_count=str(i % 300)))
    data = to_xlsx(rows)
    ents, audits = counts(session)
    start = time.perf_counter()
    report = import_enterprises(session, world.user(session, "xa_reg"), storage(data, "big.xlsx"))
    session.flush()
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[import 5000 rows: {elapsed:.2f} s]")
    assert report.ok, report.errors[:5]
    assert (report.rows, report.created, report.updated) == (5000, 5000, 0)
    assert counts(session) == (ents + 5000, audits + 5000)
    last = by_uscc(session, uscc(14_999))
    assert last.name == "导入企业14999有限公司" and last.grid_id == world.nodes["马巷1网格"]


def test_empty_cells_keep_stored_values_on_update(session, world):
    """On update an empty cell means "unchanged" for every column, flags included (R-A2, R-N3)."""
    e1 = world.ent(session, "E1")
    assert e1.is_high_risk and e1.is_above_scale and e1.is_active
    row = {"uscc": e1.uscc, "name": e1.name, "jurisdiction": "翔安区/新店街道", "address": "新地址1号"}
    report = import_enterprises(session, world.user(session, "xa_reg"), storage(to_csv([row]), "keep.csv"))
    assert report.ok, report.errors
    session.expire_all()
    e1 = world.ent(session, "E1")
    assert e1.address == "新地址1号"
    assert (e1.is_high_risk, e1.is_above_scale, e1.is_active) == (True, True, True)
    assert e1.grid_id == world.nodes["新店1网格"] and e1.supervising_agency_id == world.agencies["翔安局"]


def test_header_only_file_is_refused(session, world):
    with pytest.raises(ValidationFailed) as exc:
        import_enterprises(session, world.user(session, "xa_reg"), storage(to_csv([]), "empty-rows.csv"))
    assert exc.value.errors == {"file": ["文件中没有数据行"]}


def test_template_example_uscc_is_valid():
    from stdnum.cn import uscc as stdnum_uscc

    from core.services.importexport import COLUMNS

    example = next(c.example for c in COLUMNS if c.key == "uscc")
    assert stdnum_uscc.is_valid(example)


# ("\r=1" too, checked on neutralise() alone: a CSV reader turns the CR into a newline)
FORMULAS = ['=HYPERLINK("http://x","y")', "=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralises_formulas_and_reimports_them_unchanged(login, session, world, fmt):
    """Issue 14: a text cell that a spreadsheet would run (= + - @, tab, CR) is exported with a leading ' and
    read back without it; numbers stay numbers."""
    client = login("xa_reg")
    e1 = world.ent(session, "E1")
    for i, formula in enumerate(FORMULAS):
        ent_service.update_enterprise(session, SYSTEM, e1.id, {"version": e1.version, "address": formula,
                                                               "employee_count": 5 + i})
        session.commit()
        resp = client.get(f"/enterprises/export.{fmt}?q={e1.uscc}")
        rows = (read_csv if fmt == "csv" else read_xlsx)(resp.data)
        (row,) = [r for r in rows if r[USCC_H] == e1.uscc]
        cell = next(v for v in row.values() if isinstance(v, str) and formula.strip() in v)
        assert cell == "'" + formula, (formula, cell)
        assert str(5 + i) in [str(v) for v in row.values()]
    assert importexport._cell_text("'=1+1") == "=1+1" and importexport._cell_text("'对") == "'对"
    assert importexport.neutralise(-3) == -3 and importexport.neutralise("-3") == "'-3"
    assert importexport.neutralise("\r=1") == "'\r=1" and importexport.neutralise("厦门") == "厦门"
