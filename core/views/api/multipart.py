"""Request bodies that are JSON, or the same fields as ``multipart/form-data`` plus photo files (R-N3).

Endpoints that take evidence photos (hazard registration and actions, risk checks) read their body with
:func:`read_body` and document it with :func:`body_doc`; fields and photos are then validated together with
:func:`core.services.attachments.load_with_uploads`.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest.fields import Upload
from marshmallow import Schema

from core.schemas.base import List
from core.services.errors import ServiceError, ValidationFailed

_PHOTOS = "photos"
_BINARY_LIST = {"type": "array", "items": {"type": "string", "format": "binary"},
                "description": "证据照片（JPEG、PNG、WebP，按内容判定，单个不超过上传限制）"}


class UnsupportedMediaType(ServiceError):
    status = 415


_FORMS: dict[type[Schema], type[Schema]] = {}


def form_schema(schema: type[Schema]) -> type[Schema]:
    """The multipart twin of a JSON body schema, for the document only: the same fields (so the same required
    ones and no others — it said ``additionalProperties: true`` before, and a fuzzer's stray form fields were
    "valid" bodies the server refused) plus ``photos``."""
    if schema not in _FORMS:
        _FORMS[schema] = type(f"{schema.__name__}Form", (schema,), {
            _PHOTOS: List(Upload(), metadata={"description": _BINARY_LIST["description"]}),
            "__doc__": schema.__doc__})
    return _FORMS[schema]


def body_doc(json_schemas: list[type[Schema]], what: str) -> dict[str, Any]:
    """requestBody for an endpoint that takes JSON or the same fields as multipart form fields plus photos."""

    described = f"与 JSON 相同的{what}字段（作为表单字段提交），另加 {_PHOTOS} 文件"
    if len(json_schemas) == 1:
        return {"required": True, "content": {
            "application/json": {"schema": json_schemas[0]},
            "multipart/form-data": {"schema": form_schema(json_schemas[0]), "description": described},
        }}
    # Several bodies (one per action code in the path): a oneOf of multipart schemas with binary items is more
    # than schemathesis can generate, so the form is described generally there.
    return {"required": True, "content": {
        "application/json": {"schema": {"oneOf": list(json_schemas)}},
        "multipart/form-data": {"schema": {
            "type": "object", "additionalProperties": True, "properties": {_PHOTOS: _BINARY_LIST},
            "description": described}},
    }}


def read_body() -> tuple[dict[str, Any], list]:
    """The submitted fields and photo files of a JSON or multipart request (415 for anything else)."""
    if request.mimetype == "multipart/form-data":
        stray = sorted(set(request.files) - {_PHOTOS})
        if stray:
            raise ValidationFailed({name: ["未知字段（照片请用 photos 字段上传）"] for name in stray})
        fields: dict[str, Any] = {}
        for key, values in request.form.lists():
            if key == _PHOTOS:
                raise ValidationFailed({_PHOTOS: ["应上传文件"]})
            fields[key] = values[0] if len(values) == 1 else values
        return fields, request.files.getlist(_PHOTOS)
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValidationFailed({"_schema": ["请求体应为 JSON 对象"]})
        return body, []
    raise UnsupportedMediaType("请求体应为 application/json 或 multipart/form-data")
