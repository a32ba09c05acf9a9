"""Uploaded files: checked by content (not by name), size-limited, stored once under their SHA-256 (R-N3).

* The type comes from the first bytes, never from the name: JPEG, PNG, WebP images, and PDF where a form takes
  documents. SVG, HTML and everything else are refused (an SVG or HTML file served from our origin would run
  script in it).
* Images are opened with Pillow and their pixel count is checked from the header **before** any pixel is
  decoded (``ATTACHMENT_MAX_PIXELS``): a 30,000 × 30,000 PNG of 109 KB would need 2.7 GB once decoded.
  Then Pillow verifies the file, decodes it and it is re-encoded without metadata (EXIF, XMP, comments,
  text chunks, ICC), after turning it upright per its EXIF orientation. EXIF GPS, when present, is kept as
  data (``Attachment.meta["gps"]``), not in the file. See docs/security.md §5 for the figures.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from struct import error as struct_error
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from core.models import Attachment
from core.services.actors import Actor
from core.services.errors import ValidationFailed

#: Accepted types, recognised by their first bytes (a renamed .exe is refused whatever its name says).
_SIGNATURES: list[tuple[bytes, int, str, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", ".png"),
    (b"WEBP", 8, "image/webp", ".webp"),
    (b"%PDF-", 0, "application/pdf", ".pdf"),
]
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass(frozen=True)
class Upload:
    """A checked upload, ready to store: bytes, detected type, original name."""

    data: bytes
    content_type: str
    filename: str
    #: What the file said about itself that is worth keeping as data (``{"gps": {"lat": …, "lon": …}}``).
    meta: dict[str, Any] = dc_field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sniff(data: bytes) -> str | None:
    for magic, offset, content_type, _ in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic and (content_type != "image/webp" or data[:4] == b"RIFF"):
            return content_type
    return None


#: What each form accepts, as the refusal names it.
IMAGE_LABEL = "JPEG、PNG、WebP 图片"
ANY_LABEL = "JPEG、PNG、WebP 图片或 PDF 文件"
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class UploadRefused(ValueError):
    """One file refused; the message (Chinese) names the file's problem and what is accepted."""


def _opener(module: str, cls: str) -> Any:
    def load() -> Any:
        import importlib

        return getattr(importlib.import_module(f"PIL.{module}"), cls)
    return load


_OPENERS = {"JPEG": _opener("JpegImagePlugin", "JpegImageFile"), "PNG": _opener("PngImagePlugin", "PngImageFile"),
            "WEBP": _opener("WebPImagePlugin", "WebPImageFile")}


def human_size(n: int) -> str:
    """A byte limit as people read it: "10 MB", "200 KB"."""
    mb = 1024 * 1024
    return f"{n // mb} MB" if n >= mb and n % mb == 0 else f"{n / mb:.1f} MB" if n >= mb else f"{n // 1024} KB"


def _mp(pixels: int) -> str:
    return f"{pixels / 1_000_000:g} 百万像素"


def _rational(value: Any) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def exif_gps(exif: Any) -> dict[str, float] | None:
    """Decimal latitude/longitude from an EXIF GPS IFD (tags 1-4), None when absent or unreadable."""
    try:
        gps = exif.get_ifd(0x8825)
    except Exception:  # noqa: BLE001 - a malformed IFD is just "no GPS"
        return None
    try:
        lat = sum(_rational(v) / 60 ** i for i, v in enumerate(gps[2]))
        lon = sum(_rational(v) / 60 ** i for i, v in enumerate(gps[4]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {"lat": round(lat, 6), "lon": round(lon, 6)}


def clean_image(data: bytes, content_type: str, max_pixels: int) -> tuple[bytes, dict[str, Any]]:
    """Re-encode an image without its metadata; (new bytes, meta). Raises :class:`UploadRefused`.

    The pixel count is read from the header and checked before decoding; ``Image.MAX_IMAGE_PIXELS`` (set from
    the same limit at start-up) is a second guard for any other ``Image.open`` in the code.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    fmt = _PIL_FORMATS[content_type]
    broken = UploadRefused("图片已损坏，无法读取")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # The format's own class reads the header only and, unlike Image.open, does not refuse a bomb before
            # we can name its size; nothing is decoded here.
            with _OPENERS[fmt]()(io.BytesIO(data)) as probe:
                width, height = probe.size
            if width * height > max_pixels:
                raise UploadRefused(f"图片尺寸 {width}×{height} 超过 {_mp(max_pixels)}的上限")
            with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
                probe.verify()  # structure and checksums (PNG CRCs), still without decoding
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                image.load()
                gps = exif_gps(image.getexif())
                upright = ImageOps.exif_transpose(image)
                if fmt == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
                    upright = upright.convert("RGB")
                upright.info = {}  # no ICC, comments, text chunks or EXIF carried over by save()
                out = io.BytesIO()
                options: dict[str, Any] = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
                upright.save(out, format=fmt, **options)
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused(f"图片像素超过 {_mp(max_pixels)}的上限") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct_error, MemoryError):
        raise broken from None
    return out.getvalue(), ({"gps": gps} if gps else {})


def check_upload(data: bytes, name: str, images_only: bool = False) -> Upload:
    """One file's bytes checked (size, type by content, image re-encoded); raises :class:`UploadRefused`."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    accepted = IMAGE_LABEL if images_only else ANY_LABEL
    if len(data) > limit:
        raise UploadRefused(f"文件超过 {human_size(limit)} 的上限")
    if not data:
        raise UploadRefused("文件是空的")
    content_type = sniff(data)
    if content_type is None or (images_only and content_type not in IMAGE_TYPES):
        raise UploadRefused(f"只接受 {accepted}（按文件内容判断，与扩展名无关）")
    meta: dict[str, Any] = {}
    if content_type in IMAGE_TYPES:
        data, meta = clean_image(data, content_type, current_app.config["ATTACHMENT_MAX_PIXELS"])
    return Upload(data=data, content_type=content_type, filename=name, meta=meta)


def check_uploads(files: list[FileStorage], field: str = "photos", images_only: bool = False) -> list[Upload]:
    """Read and check uploaded files; raise :class:`ValidationFailed` on ``field`` naming each bad file."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    uploads, errors = [], []
    for storage in files:
        if storage is None or not storage.filename:
            continue
        data = storage.read(limit + 1)  # never more than the limit in memory
        name = os.path.basename(storage.filename.replace("\\", "/"))[:200]
        try:
            uploads.append(check_upload(data, name, images_only=images_only))
        except UploadRefused as exc:
            errors.append(f"{name}：{exc}")
    if errors:
        raise ValidationFailed({field: errors})
    return uploads


def load_with_uploads(schema: Schema, fields: dict[str, Any], files: list[FileStorage], field: str = "photos",
                      images_only: bool = True) -> tuple[dict[str, Any], list[Upload]]:
    """Validate submitted fields with ``schema`` and the files of ``field`` by content, together, so that one
    :class:`ValidationFailed` lists every bad field (web forms and the API's multipart bodies alike)."""
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {}
    try:
        data = schema.load(fields)
    except ValidationError as exc:
        errors.update(exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages})
    uploads: list[Upload] = []
    try:
        uploads = check_uploads(files, field, images_only=images_only)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return data, uploads


def storage_path(sha256: str) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / sha256[:2] / sha256


def store(session: Session, actor: Actor, upload: Upload, owner_type: str, owner_id: int,
          transition_id: int | None = None) -> Attachment:
    """Write the bytes (once per content; atomically) and add the attachment row; the caller's transaction
    decides whether the row survives, and an orphaned file is harmless because files are content-addressed."""
    path = storage_path(upload.sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(upload.data)
        os.replace(tmp, path)
    row = Attachment(owner_type=owner_type, owner_id=owner_id, transition_id=transition_id,
                     filename=upload.filename, content_type=upload.content_type, size=len(upload.data),
                     sha256=upload.sha256, uploaded_by_id=actor.id, meta=upload.meta or None)
    session.add(row)
    return row


def described(rows: list[Any]) -> list[dict[str, Any]]:
    """Attachments (rows or uploads) as the audit log records them: name, type, size, SHA-256 (and GPS)."""
    out = []
    for r in rows:
        item = {"filename": r.filename, "content_type": r.content_type, "sha256": r.sha256,
                "size": r.size if hasattr(r, "size") else len(r.data)}
        if (r.meta or {}).get("gps"):
            item["gps"] = r.meta["gps"]
        out.append(item)
    return out
