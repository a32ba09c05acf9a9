"""The JSON API under ``/api/v1`` (flask-smorest, OpenAPI at ``/api/v1/openapi.json``).

Authentication is by API token only (``Authorization: Bearer aj_…``): no session cookies, so no CSRF surface.
Errors are JSON: ``{"code", "status", "message", "errors"}``; validation errors are 422 with
``errors.json.<field>`` lists of Chinese messages (the shape webargs uses for request-body errors).

Enum-like fields list their accepted values as ``enum``; an unknown value is a 422 whose message is
「取值应为以下之一：a、b、c」 with those same values. Ids are integers 1 to 2^31-1: any other id in a path is a 404.
Dates are ``YYYY-MM-DD`` between 1900-01-01 and 2200-12-31; timestamps are ISO 8601 with their UTC offset.
List endpoints: 未知的查询参数会被忽略 (unknown query parameters are ignored, so a client may send filters a later
version adds); a known parameter with a bad value is a 422 naming it.

Writes may carry an ``Idempotency-Key`` header (8–64 characters of ``A-Za-z0-9_.:-``, e.g. a UUID): a retry with the
same key and body within 24 hours gets the first answer again (``Idempotent-Replayed: true``) instead of writing
twice; the same key with another body is 422.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, current_app, g, json, jsonify, request
from flask_smorest import Api
from sqlalchemy.exc import DBAPIError

from core.extensions import READ_METHODS, csrf, db
from core.schemas.base import DYNAMIC_CHOICES, Choices
from core.services import audit, users
from core.services.errors import ServiceError, ValidationFailed
from core.views import idempotency

API_PREFIX = "/api/v1"


class AnjianApi(Api):
    """flask-smorest's Api without its app-wide HTTPException handler, which would turn the web pages' errors
    into JSON too; :func:`init_app` installs a handler that answers JSON only under ``/api/``."""

    def _register_error_handlers(self) -> None:
        return None

    def _openapi_json(self):
        """The document as served: with the ``enum`` of every plugin- or configuration-provided choice filled in."""
        return current_app.response_class(json.dumps(fill_dynamic_enums(self.spec.to_dict()), indent=2),
                                          mimetype="application/json")


def _dynamic_choices_attribute(self, field, **kwargs: Any) -> dict:
    """apispec attribute function: mark fields whose accepted values are known only in a running app."""
    for validator in field.validators:
        if isinstance(validator, Choices) and validator.provider is not None:
            return {"x-choices": validator.name}
    return {}


def fill_dynamic_enums(document: dict) -> dict:
    """A copy of the OpenAPI document in which each ``x-choices: <name>`` is replaced by the ``enum`` of the
    current app's values (e.g. the enabled plugins' sector codes), so the document names exactly what the
    validators accept (issue 14)."""
    values = {name: [str(v) for v in provider()] for name, provider in DYNAMIC_CHOICES.items()}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items() if k != "x-choices"}
            name = node.get("x-choices")
            if name in values:
                enum = list(values[name])
                if None in (node.get("enum") or []):
                    enum.append(None)
                out["enum"] = enum
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(document)


def error_response(code: int, message: str, errors: Any = None):
    body: dict[str, Any] = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if errors is not None:
        body["errors"] = _string_keys(errors)
    return jsonify(body), code


def _string_keys(errors: Any) -> Any:
    """Error dicts with every key a string: marshmallow keys a list item's errors by its index and a nameless
    form field by ``None``, and sorting mixed keys for JSON raised TypeError inside the error handler (a 500 of
    the schemathesis run)."""
    if isinstance(errors, dict):
        return {("_schema" if k is None else str(k)): _string_keys(v) for k, v in errors.items()}
    if isinstance(errors, list | tuple):
        return [_string_keys(v) for v in errors]
    return errors


def current_actor():
    """The user authenticated by the request's API token (set in ``_authenticate``)."""
    return g.api_user


def authenticate():
    """``before_request`` of every API blueprint: resolve the bearer token to a user or answer 401."""
    if request.path.startswith(API_PREFIX + "/openapi.json"):
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return error_response(401, "缺少 API 令牌：请在请求头中提供 Authorization: Bearer <令牌>")
    token = users.token_for(db.session, raw.strip())
    if token is None:
        return error_response(401, "API 令牌无效、已过期或已吊销")
    g.api_user = token.user
    if users.token_use_due(token):
        if request.method in READ_METHODS:
            g.api_token_use = token.id  # saved after the answer, see _record_token_use
        else:
            users.record_token_use(db.session, token.id)  # committed with the request's write, or not at all
    return idempotency.begin(token.user.id)  # a retried write with the same Idempotency-Key: the first answer


def _record_token_use(response):
    """``after_request``: save a read request's token use in a transaction of its own — the request's read
    transaction is ended first, so that on SQLite the stamp's transaction starts with its write and waits for the
    lock like any writer. A database still busy only skips the stamp (the next request tries again)."""
    token_id = g.pop("api_token_use", None)
    if token_id is not None:
        db.session.commit()  # a reading request wrote nothing: this only ends its transaction
        try:
            users.record_token_use(db.session, token_id)
            db.session.commit()
        except DBAPIError:
            db.session.rollback()
    return response


def _audit_refusal(status: int) -> None:
    """A service refused the actor (403, or 404 for an object outside its scope): keep a trace of the attempt
    in the audit log (issue 14: refused cross-scope attempts were invisible). Best effort: a busy database
    loses the trace, never the answer."""
    from flask_login import current_user

    actor = g.get("api_user") or (current_user if current_user.is_authenticated else None)
    if actor is None:
        return
    try:
        audit.record_refusal(db.session, actor, status, request.method, request.full_path.rstrip("?"))
        db.session.commit()
    except DBAPIError:
        db.session.rollback()


def init_app(app: Flask) -> None:
    from core.views.api import (
        assessments,
        catalog,
        documents,
        enterprises,
        hazards,
        inspections,
        jurisdictions,
        me,
        notifications,
        risks,
    )

    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": __doc__},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    })
    api = AnjianApi(app)
    app.extensions["anjian_api"] = api
    from core.views.converters import IdConverter, id_param_schema

    api.register_converter(IdConverter, id_param_schema)
    api.ma_plugin.converter.add_attribute_function(_dynamic_choices_attribute)
    for module in (enterprises, jurisdictions, me, hazards, risks, notifications, catalog, assessments, inspections,
                   documents):
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.PREFIX)
    from core.views.api import plans

    for blp, prefix in plans.BLUEPRINTS:  # /plans, /draws, /campaigns
        csrf.exempt(blp)
        api.register_blueprint(blp, url_prefix=API_PREFIX + prefix)

    app.after_request(_record_token_use)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        db.session.rollback()
        if exc.status in (403, 404):
            _audit_refusal(exc.status)
        if request.path.startswith("/api/"):
            if isinstance(exc, ValidationFailed):
                return error_response(exc.status, exc.message, {"json": exc.errors})
            return error_response(exc.status, exc.message)
        from core.views.web import service_error_page

        return service_error_page(exc)
