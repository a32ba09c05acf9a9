"""PDF foundation (core.pdf): render_pdf, the locked-down URL fetcher, CJK fonts (architecture.md "Documents")."""

from __future__ import annotations

import io
import logging
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from core import pdf
from core.pdf import fonts
from core.pdf.fetcher import STATIC_BASE, FetchRefused, StaticOnlyFetcher
from core.services.stats import COLUMNS
from core.views.web.stats import LEGAL_BASIS

FIGURES = {"found": 12, "found_by_level": {"general": 9, "major": 3}, "found_closed": 7, "major_found": 3,
           "major_found_closed": 1, "closed": 8, "closed_on_time": 6, "closed_late": 2, "open_at_end": 5,
           "overdue_at_end": 4, "listed": 1, "rate": 58.3, "major_rate": 33.3}


def enterprise_context(**extra) -> dict:
    return {"enterprise": {"name": "厦门测试化工有限公司", "uscc": "91350213TEAM000014", "address": ""},
            "period": {"label": "2025年第一季度", "first_day": "2025-01-01", "last_day": "2025-03-31",
                       "due_date": "2025-04-15"},
            "levels": [("general", "一般"), ("major", "重大")], "figures": FIGURES,
            "analysis": "本季度排查隐患十二项，重大隐患三项。", "signer_name": "王主要",
            "status_text": "已于 2025-04-12 报送", "signed_on": "2025年4月12日", "generated_at": "2025-04-12 10:00",
            "legal_basis": LEGAL_BASIS, **extra}


def text_of(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


@pytest.fixture()
def ctx(app):
    with app.test_request_context():
        yield app


def test_render_pdf_embeds_cjk_fonts_and_text_extracts_as_chinese(ctx, tmp_path):
    """The 统计分析表 renders on A4 with the Chinese title, figures, signature line and "第 1 页 共 1 页"."""
    body = pdf.render_pdf("pdf/hazard_stats_enterprise.html", **enterprise_context())
    assert body.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 1
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = text_of(body)
    for expected in ("隐患排查治理情况统计分析表", "厦门测试化工有限公司", "2025年第一季度", "主要负责人（签字）",
                     "王主要", "58.3%", "33.3%", "本季度排查隐患十二项", "第 1 页 共 1 页"):
        assert expected in text, expected
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", []):
                descriptor = desc.get_object()["/FontDescriptor"].get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    embedded.add(str(font["/BaseFont"]))
    assert any("CJK" in name for name in embedded), embedded
    # poppler agrees (what a user's PDF reader extracts)
    (tmp_path / "doc.pdf").write_bytes(body)
    out = subprocess.run(["pdftotext", "-layout", str(tmp_path / "doc.pdf"), "-"], capture_output=True, check=True)
    assert "隐患排查治理情况统计分析表" in out.stdout.decode()


def test_long_tables_break_over_pages_with_page_numbers(ctx):
    rows = [{"name": f"第{i}网格", "enterprises": i, "figures": FIGURES} for i in range(60)]
    body = pdf.render_pdf("pdf/hazard_stats_summary.html", area="翔安区", row_heading="辖区",
                          period={"label": "2025年度", "first_day": "2025-01-01", "last_day": "2025-12-31"},
                          levels=[("general", "一般"), ("major", "重大")],
                          columns=COLUMNS, rows=rows,
                          total={"name": "合计", "enterprises": 1770, "figures": FIGURES}, agency="翔安局",
                          generated_at="2026-01-05 09:00")
    reader = PdfReader(io.BytesIO(body))
    pages = len(reader.pages)
    assert pages >= 2
    assert float(reader.pages[0].mediabox.width) > float(reader.pages[0].mediabox.height)  # landscape
    text = text_of(body)
    assert f"第 1 页 共 {pages} 页" in text and f"第 {pages} 页 共 {pages} 页" in text
    assert text.count("其中已销号") == pages  # the header row repeats on every page


def test_fetcher_serves_static_files_only(app, tmp_path):
    """No network, no file: outside the static folder, no climbing out with '..'."""
    fetcher = StaticOnlyFetcher(app.static_folder)
    css = fetcher.fetch(STATIC_BASE + "css/anjian.css")
    assert css.content_type == "text/css" and b"anjian" in css.read()
    inside = Path(app.static_folder, "css", "anjian.css").resolve().as_uri()
    assert fetcher.fetch(inside).read().startswith(b"/*")
    assert fetcher.fetch("data:text/plain;base64,5a6J55uR").read().decode() == "安监"
    secret = tmp_path / "secret.txt"
    secret.write_text("机密")
    for url in ("http://example.com/x.png", "https://example.com/static/css/anjian.css", "ftp://example.com/x",
                secret.as_uri(), "file:///etc/passwd", STATIC_BASE + "../../../../etc/passwd",
                STATIC_BASE + "%2e%2e/%2e%2e/core/config.py", STATIC_BASE + "css/missing.css",
                "https://anjian.invalid/other/x.css"):
        with pytest.raises(FetchRefused, match="静态文件"):
            fetcher.fetch(url)


def test_documents_cannot_reach_out(ctx, caplog, monkeypatch):
    """A user-supplied value that smuggles in a URL makes no request: the fetcher refuses and the PDF renders."""
    asked = []
    real = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        asked.append(url)
        return real(self, url, headers)

    monkeypatch.setattr(StaticOnlyFetcher, "fetch", spy)
    hostile = '<img src="http://127.0.0.1:9/track.png"><img src="file:///etc/passwd">'
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        # Autoescaping keeps user text as text; even unescaped markup would only reach the fetcher.
        body = pdf.render_pdf("pdf/hazard_stats_enterprise.html", **enterprise_context(analysis=hostile))
    assert body.startswith(b"%PDF-") and asked == []
    assert "<img" in text_of(body)

    from weasyprint import HTML

    HTML(string=hostile, base_url=STATIC_BASE, url_fetcher=StaticOnlyFetcher(ctx.static_folder)).write_pdf()
    assert asked == ["http://127.0.0.1:9/track.png", "file:///etc/passwd"]


def test_missing_cjk_font_fails_with_a_clear_message(ctx, monkeypatch):
    assert fonts.installed_cjk_families() == ["Noto Serif CJK SC", "Noto Sans CJK SC"]
    assert fonts.installed_cjk_families(("No Such Font CJK QX",)) == []
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ("No Such Font CJK QX",))
    with pytest.raises(pdf.PdfError, match="fonts-noto-cjk"):
        pdf.render_pdf("pdf/hazard_stats_enterprise.html", **enterprise_context())


def test_this_machine_is_fit_for_pdfs():
    """fonts-noto-cjk and libharfbuzz-subset0 installed (scripts/setup): nothing to warn about."""
    assert fonts.environment_problems() == []
