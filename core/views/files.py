"""Serving stored files (photos, evidence, site plans, issued PDFs) safely: one helper for every view.

A stored file is served with the type sniffed from its bytes at upload (never ``text/html``, never what the
name says), ``nosniff`` so the browser does not guess another, a ``sandbox`` CSP so that even a file that got
past the checks cannot run script with our origin, and a ``Content-Disposition`` with the original name
encoded per RFC 6266 / 5987 (werkzeug): ``inline`` for images and PDF, ``attachment`` for anything else.
"""

from __future__ import annotations

import io

from flask import Response, send_file

from core.services.attachments import IMAGE_TYPES, sniff, storage_path
from core.services.errors import NotFound

PDF = "application/pdf"
#: Served inline (shown in the page or the browser's viewer); everything else downloads.
INLINE_TYPES = IMAGE_TYPES | {PDF}
#: Images: nothing but the picture itself, sandboxed. A PDF gets no ``sandbox``: Chromium's PDF viewer does
#: not open in a sandboxed document, and a PDF is not parsed as HTML (type fixed, nosniff).
_CSP_IMAGE = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
_CSP_PDF = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"
_CSP_OTHER = "default-src 'none'; sandbox"


def safe_type(data: bytes, recorded: str | None = None) -> str:
    """The type to send: what the bytes are (sniffed again, so a row edited to ``text/html`` does not matter),
    else a download-only type."""
    return sniff(data) or ("application/octet-stream" if recorded != PDF else PDF)


def send_bytes(data: bytes, filename: str, recorded_type: str | None = None, *, etag: str | None = None,
               download: bool = False, max_age: int = 3600) -> Response:
    """Send ``data`` as a stored file (see the module docstring); ``download`` forces ``attachment``."""
    content_type = safe_type(data, recorded_type)
    inline = content_type in INLINE_TYPES and not download
    resp = send_file(io.BytesIO(data), mimetype=content_type, download_name=filename or "file",
                     as_attachment=not inline, etag=etag or False, conditional=bool(etag), max_age=max_age)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = (_CSP_IMAGE if content_type in IMAGE_TYPES
                                               else _CSP_PDF if content_type == PDF else _CSP_OTHER)
    resp.headers["Cache-Control"] = f"private, max-age={max_age}"
    return resp


def send_stored(row, *, download: bool = False) -> Response:
    """Send an :class:`~core.models.Attachment` row's file; 404 (Chinese) when the file left the store.

    Read whole: files are size-limited, and a file handle left to the WSGI server is never closed by clients
    that do not close the response (the test client)."""
    path = storage_path(row.sha256)
    if not path.is_file():
        raise NotFound("附件文件已不在存储中，请联系管理员")
    return send_bytes(path.read_bytes(), row.filename, row.content_type, etag=row.sha256, download=download)
