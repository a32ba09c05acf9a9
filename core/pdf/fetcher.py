"""The URL fetcher of PDF documents: the app's own static files and ``data:`` URLs, nothing else.

A document is HTML rendered from our templates, but values in it come from users (names, descriptions); a URL in
them must never make the server read a local file or call the network. Documents therefore resolve relative URLs
against :data:`STATIC_BASE`, a host that cannot exist (``.invalid`` is reserved, RFC 2606), and this fetcher maps
that prefix, or a ``file:`` URL, onto the static folder and refuses everything outside it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

#: Base URL of every document: ``<link href="css/x.css">`` reads ``<static folder>/css/x.css``.
STATIC_BASE = "https://anjian.invalid/static/"


class FetchRefused(ValueError):
    """A document asked for a resource outside the static folder."""


class StaticOnlyFetcher(URLFetcher):
    """Serves files under ``static_folder`` (via :data:`STATIC_BASE` or ``file:``) and ``data:`` URLs; refuses
    any other URL with :class:`FetchRefused` (WeasyPrint then logs a warning and leaves the resource out)."""

    def __init__(self, static_folder: str | Path) -> None:
        super().__init__(timeout=1, allowed_protocols={"https", "file", "data"}, allow_redirects=False)
        self.root = Path(static_folder).resolve()

    def resolve(self, url: str) -> Path:
        """The file under the static folder that ``url`` names, or :class:`FetchRefused`."""
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            candidate = Path(url2pathname(parts.path))
        elif url.startswith(STATIC_BASE):
            candidate = self.root / unquote(parts.path[len(urlsplit(STATIC_BASE).path):])
        else:
            raise FetchRefused(f"PDF 只能引用平台自身的静态文件，已拒绝：{url}")
        path = candidate.resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise FetchRefused(f"PDF 只能引用平台自身的静态文件，已拒绝：{url}")
        return path

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if urlsplit(url).scheme == "data":
            return super().fetch(url, headers)  # decoded in memory by urllib's DataHandler: no I/O
        path = self.resolve(url)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})
