"""Uploaded files: checked by content (not by name), size-limited, stored once under their SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
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

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sniff(data: bytes) -> str | None:
    for magic, offset, content_type, _ in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic and (content_type != "image/webp" or data[:4] == b"RIFF"):
            return content_type
    return None


def check_uploads(files: list[FileStorage], field: str = "photos", images_only: bool = False) -> list[Upload]:
    """Read and check uploaded files; raise :class:`ValidationFailed` on ``field`` naming each bad file."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    uploads, errors = [], []
    for storage in files:
        if storage is None or not storage.filename:
            continue
        data = storage.read(limit + 1)
        name = os.path.basename(storage.filename)[:200]
        content_type = sniff(data)
        if len(data) > limit:
            errors.append(f"{name}：文件超过 {limit // (1024 * 1024)} MB")
        elif not data:
            errors.append(f"{name}：文件是空的")
        elif content_type is None or (images_only and content_type not in IMAGE_TYPES):
            allowed = "JPEG、PNG、WebP 图片" + ("" if images_only else "或 PDF")
            errors.append(f"{name}：只接受 {allowed}")
        else:
            uploads.append(Upload(data=data, content_type=content_type, filename=name))
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
                     sha256=upload.sha256, uploaded_by_id=actor.id)
    session.add(row)
    return row
