"""The streaming .xlsx writer of the exports (R-H6, R-N1): what it writes reads back with openpyxl."""

from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook

from core.services.xlsx import column_letter, stream_xlsx


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 701, 702)] == ["A", "Z", "AA", "AZ", "ZZ", "AAA"]


def test_rows_read_back_with_types_escapes_and_gaps():
    rows = [[1, "消防通道堵塞 <一号车间> & 仓库", None, True, 2.5, "控制\x01字符"],
            [2, "", "是", False, 0, "第二行"]]
    chunks = list(stream_xlsx(["编号", "描述", "逾期", "标记", "数值", "备注"], iter(rows), "隐患台账"))
    body = b"".join(chunks)
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None
    wb = load_workbook(io.BytesIO(body))
    assert wb.sheetnames == ["隐患台账"]
    ws = wb.active
    assert [c.value for c in ws[1]] == ["编号", "描述", "逾期", "标记", "数值", "备注"]
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    assert [c.value for c in ws[2]] == [1, "消防通道堵塞 <一号车间> & 仓库", None, True, 2.5, "控制字符"]
    assert [c.value for c in ws[3]] == [2, None, "是", False, 0, "第二行"]


def test_large_sheets_stream_in_chunks():
    rows = ([i, f"隐患描述{i}" * 5, "2026-06-30"] for i in range(20_000))
    chunks = list(stream_xlsx(["编号", "描述", "日期"], rows, "台账"))
    assert len(chunks) >= 2  # sent while written, not at the end
    ws = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True).active
    values = list(ws.iter_rows(values_only=True))
    assert len(values) == 20_001 and values[-1] == (19_999, "隐患描述19999" * 5, "2026-06-30")
