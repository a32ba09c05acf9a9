"""PDF documents (统计分析表 now; 执法文书 later): a Jinja template → HTML → WeasyPrint → bytes.

``render_pdf("pdf/<name>.html", **context)`` renders a template that extends ``pdf/layout.html`` (A4, print CSS,
CJK font stacks, "第 X 页 共 Y 页" in the footer) with a primitive context, then lays it out with a fetcher that
reads only the app's static files (:mod:`core.pdf.fetcher`). It needs an app context (templates, static folder).
Rendering refuses with :class:`PdfError` when no CJK font is installed (:mod:`core.pdf.fonts`).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, render_template

from core.pdf.fetcher import STATIC_BASE, FetchRefused, StaticOnlyFetcher
from core.pdf.fonts import CJK_FAMILIES, PdfError, environment_problems, require_cjk_font

__all__ = ["CJK_FAMILIES", "PDF_MIMETYPE", "STATIC_BASE", "FetchRefused", "PdfError", "StaticOnlyFetcher",
           "environment_problems", "render_html", "render_pdf"]

log = logging.getLogger(__name__)
_warned = False
PDF_MIMETYPE = "application/pdf"


def render_html(template: str, **context: Any) -> str:
    """The document's HTML (what :func:`render_pdf` lays out); handy for tests and previews."""
    return render_template(template, **context)


def render_pdf(template: str, **context: Any) -> bytes:
    """Render ``template`` with ``context`` to PDF bytes.

    Raises :class:`PdfError` when no CJK font is installed. Resources other than static files are refused and
    left out (WeasyPrint logs each refusal)."""
    global _warned
    from weasyprint import HTML

    require_cjk_font()
    if not _warned:
        _warned = True
        for problem in environment_problems():
            log.warning("PDF: %s", problem)
    html = render_html(template, **context)
    fetcher = StaticOnlyFetcher(current_app.static_folder)
    return HTML(string=html, base_url=STATIC_BASE, url_fetcher=fetcher).write_pdf()
