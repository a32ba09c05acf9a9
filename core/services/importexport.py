"""Enterprise import and export as Excel (.xlsx) and CSV (R-A2).

Import is all or nothing: every row is validated first (schema, references, scope, duplicates) and all errors
are reported as (row, column, message); only a file without errors is written. Export is streamed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.datastructures import FileStorage

from core.models import Agency, Enterprise, Jurisdiction
from core.plugins import plugins
from core.schemas.enterprise import CREDIT_CLASSES, SUPERVISION_LEVELS, EnterpriseIn
from core.services import enterprises
from core.services.actors import Actor
from core.services.errors import ValidationFailed
from core.services.permissions import require
from core.services.scope import scope_of
from core.services.xlsx import FORMULA_STARTS, neutralise, stream_xlsx

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
#: CSV rows per streamed chunk.
_CSV_FLUSH_ROWS = 500


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    example: str = ""
    help: str = ""


COLUMNS: list[Column] = [
    Column("uscc", "统一社会信用代码*", "91350213MA2YQ1234A",
           "18 位，校验位须正确；已登记的代码将更新该企业，更新时留空的单元格保持原值不变"),
    Column("name", "单位名称*", "厦门示例化工有限公司"),
    Column("address", "地址", "厦门市翔安区新店街道示例路1号"),
    Column("jurisdiction", "所属辖区*", "350213", "行政区划代码，或用“/”分隔的名称路径，如 厦门市/翔安区/新店街道"),
    Column("grid", "所在网格", "新店街道第1网格", "所属辖区下的网格名称"),
    Column("industry_code", "行业代码", "C2614"),
    Column("industry_name", "行业名称", "有机化学原料制造"),
    Column("legal_representative", "法定代表人", "张三"),
    Column("actual_controller", "实际控制人", "张三"),
    Column("principal_name", "主要负责人", "李四"),
    Column("principal_phone", "主要负责人电话", "13800000000"),
    Column("safety_manager_name", "安全管理人员", "王五"),
    Column("safety_manager_phone", "安全管理人员电话", "13900000000"),
    Column("employee_count", "从业人员数", "120"),
    Column("is_high_risk", "高危行业", "是", "是/否"),
    Column("is_above_scale", "规模以上", "是", "是/否"),
    Column("is_key_industry", "重点行业领域", "是", "是/否"),
    Column("is_small_micro", "中小微企业", "否", "是/否"),
    Column("supervising_agency", "监管主体", "厦门市翔安区应急管理局", "执法机关全称"),
    Column("supervision_level", "监管层级", "县级", "、".join(SUPERVISION_LEVELS.values())),
    Column("sectors", "专项领域", "危险化学品：生产、使用；消防", "领域名称，多个用“；”分隔，类别写在“：”后用“、”分隔"),
    Column("longitude", "经度", "118.2468"),
    Column("latitude", "纬度", "24.6372"),
    Column("insurance_company", "安责险承保机构", ""),
    Column("insurance_start", "安责险起期", "", "YYYY-MM-DD"),
    Column("insurance_end", "安责险止期", "", "YYYY-MM-DD"),
    Column("credit_class", "信用等级", "", "、".join(CREDIT_CLASSES)),
]
_BY_HEADER = {c.header.rstrip("*"): c for c in COLUMNS}
_BY_KEY = {c.key: c for c in COLUMNS}
# Schema fields reported under another column's header.
_FIELD_TO_COLUMN = {"jurisdiction_id": "jurisdiction", "grid_id": "grid", "supervising_agency_id": "supervising_agency"}


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number (header is row 1); 0 for the file as a whole
    column: str
    message: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        text = text[1:]  # neutralised on export (see neutralise)
    text = text.strip()
    return text or None


def _check_zip_size(data: bytes) -> None:
    """Refuse a ZIP bomb before openpyxl inflates it: the sizes come from the ZIP's central directory, so a
    small file declaring gigabytes is refused without decompressing a byte. A member that inflates beyond what
    it declared is stopped by zipfile itself (it checks the declared size while reading)."""
    limit = current_app.config["IMPORT_MAX_UNCOMPRESSED"]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValidationFailed({"file": ["无法读取 Excel 文件，请使用导入模板"]}) from None
    if total > limit:
        raise ValidationFailed({"file": [f"Excel 文件解压后超过 {limit // (1024 * 1024)} MB，请分批导入或另存为 CSV"]})


def _read_rows(upload: FileStorage, max_rows: int) -> tuple[list[str], list[list[str | None]]]:
    name = (upload.filename or "").lower()
    data = upload.read()
    if name.endswith(".xlsx"):
        if not data.startswith(b"PK"):
            raise ValidationFailed({"file": ["文件不是有效的 Excel (.xlsx) 文件"]})
        _check_zip_size(data)
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
            raise ValidationFailed({"file": ["无法读取 Excel 文件，请使用导入模板"]}) from None
        rows = [[_cell_text(v) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)]
    elif name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValidationFailed({"file": ["无法识别 CSV 文件的编码（支持 UTF-8 和 GBK）"]})
        rows = [[_cell_text(v) for v in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise ValidationFailed({"file": ["请上传 .xlsx 或 .csv 文件"]})
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ValidationFailed({"file": ["文件是空的"]})
    if len(rows) - 1 > max_rows:
        raise ValidationFailed({"file": [f"一次最多导入 {max_rows} 行，请分批导入"]})
    header = [(h or "").rstrip("*").strip() for h in rows[0]]
    return header, rows[1:]


class _Resolver:
    """Looks up names used in a spreadsheet (辖区, 网格, 监管主体, 领域) once per import."""

    def __init__(self, session: Session, actor: Actor):
        self.nodes = list(session.scalars(select(Jurisdiction)))
        by_id = {n.id: n for n in self.nodes}
        self.by_code = {n.code: n for n in self.nodes if n.code}
        self.by_path: dict[str, Jurisdiction] = {}
        for n in self.nodes:
            names = [by_id[i].name for i in n.ancestor_ids if i in by_id]
            for start in range(len(names)):  # accept any suffix: 翔安区/新店街道 as well as the full path
                self.by_path.setdefault("/".join(names[start:]), n)
        self.grids = {(n.parent_id, n.name): n for n in self.nodes if n.level == "grid"}
        self.grid_by_name: dict[str, list[Jurisdiction]] = {}
        for n in self.nodes:
            if n.level == "grid":
                self.grid_by_name.setdefault(n.name, []).append(n)
        # Keep the loaded objects referenced: the identity map holds them weakly, and the services look the
        # jurisdiction and agency of every row up with session.get(), which must not become a SELECT per row.
        self.agency_objects = list(session.scalars(select(Agency)))
        self.agencies = {a.name: a.id for a in self.agency_objects}
        self.scope = scope_of(actor)
        self.sectors = {info.name: code for code, info in plugins().sectors.items()}
        self.sectors.update({code: code for code in plugins().sectors})
        self.levels = {label: value for value, label in SUPERVISION_LEVELS.items()}

    def jurisdiction(self, text: str) -> Jurisdiction | None:
        return self.by_code.get(text) or self.by_path.get(text.strip("/").replace(" ", ""))

    def grid(self, text: str, area: Jurisdiction | None) -> Jurisdiction | None:
        candidates = [g for g in self.grid_by_name.get(text, []) if area is None or g.path.startswith(area.path)]
        return candidates[0] if len(candidates) == 1 else None

    def sector_items(self, text: str) -> list[dict[str, Any]] | str:
        items = []
        for part in text.replace(";", "；").split("；"):
            part = part.strip()
            if not part:
                continue
            name, _, acts = part.replace(":", "：").partition("：")
            code = self.sectors.get(name.strip())
            if code is None:
                return f"未知或未启用的领域“{name.strip()}”"
            items.append({"sector": code, "activities": [a.strip() for a in acts.replace(",", "、").split("、")
                                                         if a.strip()], "data": {}})
        return items


def _row_to_input(values: dict[str, str | None], res: _Resolver, errors: list[tuple[str, str]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("jurisdiction", "grid", "supervising_agency", "sectors", "supervision_level") or value is None:
            continue
        data[key] = value
    area = None
    if values.get("jurisdiction"):
        area = res.jurisdiction(values["jurisdiction"])
        if area is None:
            errors.append(("jurisdiction", f"找不到辖区“{values['jurisdiction']}”"))
        elif area.level == "grid":
            errors.append(("jurisdiction", "所属辖区不能是网格，请在“所在网格”中选择网格"))
        elif not res.scope.covers_path(area.path):
            errors.append(("jurisdiction", "所属辖区不在您的管辖范围内"))
        else:
            data["jurisdiction_id"] = area.id
    else:
        errors.append(("jurisdiction", "必填项"))
    if values.get("grid"):
        grid = res.grid(values["grid"], area)
        if grid is None:
            errors.append(("grid", f"在所属辖区下找不到唯一的网格“{values['grid']}”"))
        else:
            data["grid_id"] = grid.id
    if values.get("supervising_agency"):
        agency_id = res.agencies.get(values["supervising_agency"])
        if agency_id is None:
            errors.append(("supervising_agency", f"找不到执法机关“{values['supervising_agency']}”"))
        else:
            data["supervising_agency_id"] = agency_id
    if values.get("supervision_level"):
        level = res.levels.get(values["supervision_level"], values["supervision_level"])
        data["supervision_level"] = level
    if values.get("sectors"):
        items = res.sector_items(values["sectors"])
        if isinstance(items, str):
            errors.append(("sectors", items))
        else:
            data["sectors"] = items
    return data


def import_enterprises(session: Session, actor: Actor, upload: FileStorage | None) -> ImportReport:
    """Validate every row of an uploaded .xlsx/.csv and, only if all are valid, create or update them.

    Rows whose 统一社会信用代码 is already registered update that enterprise (it must be in the actor's scope).
    The caller commits when ``report.ok`` and rolls back otherwise.
    """
    from flask import current_app

    require(actor, "enterprise.import")
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": ["请选择要导入的文件"]})
    header, rows = _read_rows(upload, current_app.config["IMPORT_MAX_ROWS"])
    report = ImportReport(rows=len(rows))
    unknown = [h for h in header if h and h not in _BY_HEADER]
    missing = [c.header for c in COLUMNS if c.header.endswith("*") and c.header.rstrip("*") not in header]
    if unknown or missing:
        if unknown:
            report.errors.append(RowError(1, "表头", "无法识别的列：" + "、".join(unknown)))
        if missing:
            report.errors.append(RowError(1, "表头", "缺少必填列：" + "、".join(missing)))
        return report

    res = _Resolver(session, actor)
    keys = [_BY_HEADER[h].key if h else None for h in header]
    schema = EnterpriseIn()
    seen: dict[str, int] = {}
    # (row number, loaded data, keys the row actually filled): on update an empty cell keeps the stored value,
    # so the schema's defaults (flags = 否, 在营 = 是) must not count as input.
    parsed: list[tuple[int, dict[str, Any], set[str]]] = []
    for offset, row in enumerate(rows):
        rownum = offset + 2
        if not any(row):
            continue
        values = {k: (row[i] if i < len(row) else None) for i, k in enumerate(keys) if k}
        row_errors: list[tuple[str, str]] = []
        data = _row_to_input(values, res, row_errors)
        reported = {key for key, _ in row_errors}  # e.g. an unknown 辖区 is not also reported as missing
        provided = set(data)
        try:
            data = schema.load(data)
        except ValidationError as exc:
            for key, msg in _field_messages(exc.messages):
                if key not in reported:
                    row_errors.append((key, msg))
        uscc = data.get("uscc") or values.get("uscc")
        if uscc and uscc in seen:
            row_errors.append(("uscc", f"与第 {seen[uscc]} 行重复"))
        elif uscc:
            seen[uscc] = rownum
        for key, msg in row_errors:
            report.errors.append(RowError(rownum, _BY_KEY[key].header.rstrip("*") if key in _BY_KEY else key, msg))
        if not row_errors:
            parsed.append((rownum, data, provided))
    if not parsed and not report.errors:
        raise ValidationFailed({"file": ["文件中没有数据行"]})

    existing = {}
    usccs = [d["uscc"] for _, d, _ in parsed]
    for i in range(0, len(usccs), 500):
        existing.update({e.uscc: e for e in session.scalars(
            select(Enterprise).where(Enterprise.uscc.in_(usccs[i:i + 500])).options(selectinload(Enterprise.sectors))
        )})
    scope = scope_of(actor)
    for rownum, data, _ in parsed:
        ent = existing.get(data["uscc"])
        if ent is not None and not scope.everything and not scope.covers_path(ent.scope_path):
            report.errors.append(RowError(rownum, "统一社会信用代码", "该代码已由其他辖区登记，不能在此导入"))
    if report.errors:
        report.errors.sort(key=lambda e: e.row)  # stable: a row's errors stay in column order
        return report

    creates: list[tuple[int, dict[str, Any]]] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    for rownum, data, provided in parsed:
        ent = existing.get(data["uscc"])
        if ent is None:
            creates.append((rownum, data))
            continue
        if "sectors" in data:  # keep the sector data the spreadsheet does not carry
            old = {s.sector: s.data for s in ent.sectors}
            for item in data["sectors"]:
                item["data"] = old.get(item["sector"], {})
        changes = {k: v for k, v in data.items() if k in provided}
        updates.append((rownum, {**changes, "version": ent.version}))
    if updates:
        updated, errors = enterprises.update_enterprises(
            session, actor, [(existing[data["uscc"]].id, data) for _, data in updates])
        report.updated = len(updated)
        for index, errs in errors.items():
            _add_errors(report, updates[index][0], errs)
    if creates:
        created, errors = enterprises.create_enterprises(session, actor, [data for _, data in creates])
        report.created = len(created)
        for index, errs in errors.items():
            _add_errors(report, creates[index][0], errs)
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        report.created = report.updated = 0
    return report


def _field_messages(messages: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(column key, message) pairs from marshmallow-shaped errors; nested ones (a sector's data) are flattened
    to ``path：message`` so that the user reads the message, not a Python dict."""

    def leaves(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
        if isinstance(value, dict):
            for k, v in value.items():
                yield from leaves(v, path + (str(k),))
        elif isinstance(value, (list, tuple)):
            for v in value:
                yield from leaves(v, path)
        else:
            yield path, str(value)

    for fname, msgs in messages.items():
        col = _BY_KEY.get(_FIELD_TO_COLUMN.get(fname, fname))
        for path, msg in leaves(msgs, ()):
            if fname == "sectors" and path and path[0].isdigit():
                path = (f"第 {int(path[0]) + 1} 个领域",) + path[1:]
            yield (col.key if col else fname), ("、".join(path) + "：" + msg if path else msg)


def _add_errors(report: ImportReport, rownum: int, errors: dict[str, Any]) -> None:
    for key, msg in _field_messages(errors):
        report.errors.append(RowError(rownum, _BY_KEY[key].header.rstrip("*") if key in _BY_KEY else key, msg))


# --- template and export -------------------------------------------------------------------------------------


def template(fmt: str) -> tuple[bytes, str]:
    """The import template: header row, one example row, and (xlsx) a sheet explaining every column."""
    headers = [c.header for c in COLUMNS]
    example = [c.example for c in COLUMNS]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(headers)
        writer.writerow(example)
        return ("\ufeff" + buf.getvalue()).encode("utf-8"), CSV_MIME
    wb = Workbook()
    ws = wb.active
    ws.title = "企业"
    ws.append(headers)
    ws.append(example)
    for i, col in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(12, len(col.header) * 2 + 2)
    notes = wb.create_sheet("填写说明")
    notes.append(["列", "说明"])
    for col in COLUMNS:
        notes.append([col.header, col.help or ("必填" if col.header.endswith("*") else "选填")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), XLSX_MIME


def _export_rows(session: Session, actor: Actor, filters: dict[str, Any]) -> Iterator[list[Any]]:
    """Prepare the export eagerly (scope, filters, lookup tables) and return a lazy row iterator.

    Everything that reads the actor happens before returning, because a streamed response iterates after the
    request's own session has been closed; the iterator only runs the prepared statement.
    """
    names = {n.id: n for n in session.scalars(select(Jurisdiction))}
    agencies = {a.id: a.name for a in session.scalars(select(Agency))}
    registry = plugins()
    sector_names = {code: registry.sector_name(code) for code in registry.sectors}
    stmt = (enterprises.enterprise_query(session, actor, filters).order_by(Enterprise.id)
            .options(selectinload(Enterprise.sectors)).execution_options(yield_per=1000))

    def area_name(node_id: int | None) -> str:
        node = names.get(node_id)
        if node is None:
            return ""
        return node.code or "/".join(names[i].name for i in node.ancestor_ids if i in names)

    def value_of(ent: Enterprise, key: str) -> Any:
        if key == "jurisdiction":
            return area_name(ent.jurisdiction_id)
        if key == "grid":
            return names[ent.grid_id].name if ent.grid_id in names else ""
        if key == "supervising_agency":
            return agencies.get(ent.supervising_agency_id, "")
        if key == "supervision_level":
            return SUPERVISION_LEVELS.get(ent.supervision_level or "", "")
        if key == "sectors":
            return "；".join(sector_names.get(s.sector, s.sector) + ("：" + "、".join(s.activities) if s.activities else "")
                            for s in ent.sectors)
        value = getattr(ent, key)
        if key.startswith("is_"):
            return "是" if value else "否"
        return value.isoformat() if isinstance(value, date) else value

    def rows(db_session: Session) -> Iterator[list[Any]]:
        for ent in db_session.scalars(stmt):
            yield [value_of(ent, col.key) for col in COLUMNS]

    return rows


def export_enterprises(session: Session, actor: Actor, filters: dict[str, Any], fmt: str) -> tuple[Iterator[bytes], str]:
    """Stream the actor's (filtered) enterprises in the import format, so an export can be edited and re-imported.

    Both formats are produced row by row while the response is sent (:func:`stream_table`), so memory stays
    flat however many rows there are.
    """
    require(actor, "enterprise.export")
    headers = [c.header for c in COLUMNS]
    make_rows = _export_rows(session, actor, filters)
    return stream_table(session, headers, make_rows, fmt, "企业")


def _safe_rows(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    for row in rows:
        yield [neutralise(v) for v in row]


def stream_table(session: Session, headers: list[str], make_rows: Callable[[Session], Iterator[list[Any]]],
                 fmt: str, sheet: str) -> tuple[Iterator[bytes], str]:
    """Stream rows as ``csv`` (UTF-8 with BOM so Excel reads the Chinese) or ``xlsx``; (chunks, mimetype).

    Rows are produced while the response is sent, with the streaming context's own session: CSV line by line,
    XLSX by :func:`core.services.xlsx.stream_xlsx` (a ZIP written as it goes). Memory stays flat however many
    rows there are.
    """
    if fmt == "csv":
        def generate() -> Iterator[bytes]:
            from core.extensions import db  # the streaming context's own session

            # The first chunk already carries the header; later chunks only what was written since.
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(headers)
            yield ("\ufeff" + buf.getvalue()).encode("utf-8")
            buf.seek(0)
            buf.truncate()
            for i, row in enumerate(_safe_rows(make_rows(db.session)), start=1):
                writer.writerow(row)
                if i % _CSV_FLUSH_ROWS == 0:
                    yield buf.getvalue().encode("utf-8")
                    buf.seek(0)
                    buf.truncate()
            yield buf.getvalue().encode("utf-8")

        return generate(), CSV_MIME

    def stream() -> Iterator[bytes]:
        from core.extensions import db  # the streaming context's own session, as for CSV

        # Written as it is sent (core.services.xlsx): openpyxl needed a temporary file and was ~30× slower (R-N1).
        yield from stream_xlsx(headers, _safe_rows(make_rows(db.session)), sheet)

    return stream(), XLSX_MIME
