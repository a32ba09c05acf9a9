"""Turning HTML form posts into schema input, and schema errors into form messages.

Every web view reads its post through this module (:func:`posted` / :func:`form_data`), never ``request.form``
directly (a test greps for it), because a browser's post is not a flat dictionary:

* a checkbox is sent only when checked (value ``on`` unless it has one); our templates put a hidden input of the
  same name first (``0``, or ``""`` before a group), so a box that is *on the form* always sends something, and a
  checked one sends the hidden value *and* its own: ``flag=0&flag=1``. Reading the first value of such a pair is
  the defect of issue 14 (an unchanged save unticked every sector);
* a checkbox group or a ``<select multiple>`` sends one value per chosen item, or nothing at all;
* a field that is on the form but empty sends ``""``; a field that is not on the form (not rendered, or
  ``disabled``) sends nothing, and saving must then leave the stored value alone.
"""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from core.services.errors import ValidationFailed

#: Fields every form carries that are not data: the CSRF token and the idempotency key (core.views.idempotency).
FORM_CONTROL = ("csrf_token", "_idempotency_key")
#: What a hidden default or an unticked box says; anything else posted for a checkbox means "checked".
_OFF = frozenset({"", "0", "false", "off"})


class Posted:
    """Read-only view of one form post with browser semantics (see the module docstring)."""

    def __init__(self, form: MultiDict) -> None:
        self._form = form

    def __bool__(self) -> bool:
        """Whether anything was posted (a GET has an empty post)."""
        return bool(self._form)

    def __contains__(self, name: object) -> bool:
        return name in self._form

    def shown(self, name: str) -> bool:
        """Whether the form had the field (it posted something, even an empty value or a hidden default)."""
        return name in self._form

    def get(self, name: str, default: str | None = None) -> str | None:
        """The field's value: the *last* one posted, because a hidden default precedes its control; ``default``
        when the field was not on the form, ``""`` when it was shown but left empty."""
        values = self._form.getlist(name)
        return values[-1] if values else default

    def integer(self, name: str) -> int | None:
        """:meth:`get` as an int; ``None`` when absent or not a whole number (the service then reports it)."""
        try:
            return int(self.get(name) or "")
        except ValueError:
            return None

    def checked(self, name: str) -> bool:
        """A checkbox: ticked when any posted value is not an "off" value, whatever the order of the hidden
        default and the box."""
        return any(v not in _OFF for v in self._form.getlist(name))

    def flag(self, name: str) -> bool | None:
        """:meth:`checked`, or ``None`` when the checkbox was not on the form (leave the stored value alone)."""
        return self.checked(name) if self.shown(name) else None

    def getlist(self, name: str) -> list[str]:
        """A checkbox group or multi-select: the chosen values, without the empty marker a group posts so that
        "nothing chosen" (``[]`` and :meth:`shown`) differs from "not on the form" (``[]`` and not shown)."""
        return [v for v in self._form.getlist(name) if v != ""]

    def items(self, *, skip: tuple[str, ...] = FORM_CONTROL) -> list[tuple[str, str]]:
        """``(name, value)`` per field as :meth:`get` reads it, in form order."""
        return [(k, self.get(k) or "") for k in self._form if k not in skip]

    def data(self, *, lists: tuple[str, ...] = (), skip: tuple[str, ...] = FORM_CONTROL) -> dict[str, Any]:
        """The post flattened for a schema: one value per field (:meth:`get`), all values (:meth:`getlist`) for
        the fields in ``lists``; fields not on the form are absent, so a partial load leaves them alone."""
        data: dict[str, Any] = {}
        for key in self._form:
            if key not in skip:
                data[key] = self.getlist(key) if key in lists else self.get(key)
        return data


def posted() -> Posted:
    """The current request's form post."""
    return Posted(request.form)


def form_data(*, lists: tuple[str, ...] = (), skip: tuple[str, ...] = FORM_CONTROL) -> dict[str, Any]:
    """The current request's post flattened for a schema (:meth:`Posted.data`)."""
    return posted().data(lists=lists, skip=skip)


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
