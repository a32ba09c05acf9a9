"""Turning HTML form posts into schema input, and schema errors into form messages."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from core.services.errors import ValidationFailed


def form_data(form: MultiDict, *, lists: tuple[str, ...] = (), skip: tuple[str, ...] = ("csrf_token",)) -> dict[str, Any]:
    """Flatten a form post. Checkboxes are rendered after a hidden input of the same name (``0``), so the last
    value wins and an unticked box still says ``0``; fields in ``lists`` keep all their values."""
    data: dict[str, Any] = {}
    for key in form.keys():
        if key in skip:
            continue
        values = form.getlist(key)
        data[key] = values if key in lists else values[-1]
    return data


#: What a ticked checkbox sends (the macros render ``value="1"``; a box without a value attribute sends ``on``).
TICKED = frozenset({"1", "on", "true"})


def checked(form: MultiDict, name: str) -> bool:
    """Whether the checkbox ``name`` is ticked. Every checkbox is rendered after a hidden input of the same name
    (``0``), so a browser sends ``name=0`` for an unticked box and ``name=0&name=1`` for a ticked one: the
    *first* value is always the hidden default. Read checkboxes through here (or :func:`form_data`, whose last
    value wins), never with ``form.get(name)``, which returns that default and silently unticks every box
    (issue 14: an unchanged save of the enterprise form dropped all its sectors)."""
    return any(value in TICKED for value in form.getlist(name))


def load(schema: Schema, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Load with ``schema``; a marshmallow error becomes :class:`ValidationFailed` like a service's."""
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages) from None


def flat_errors(errors: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """``{"sectors": {0: {"data": {"x": ["…"]}}}}`` → ``{"sectors.0.data.x": ["…"]}`` for display."""
    out: dict[str, list[str]] = {}
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_errors(value, name + "."))
        else:
            out[name] = list(value) if isinstance(value, (list, tuple)) else [str(value)]
    return out
