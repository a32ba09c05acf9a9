"""URL converters.

Every ``<int:…>`` in this app's routes is a database id. Werkzeug's integer converter matches any run of digits,
so ``/hazards/99999999999999999999`` reached the database and SQLite raised ``OverflowError`` (a 500; issue 14:
16 server errors of the schemathesis sweep), as PostgreSQL does above 2^31-1 (``integer out of range``: the
models' ids are 32-bit ``integer`` columns there). :class:`IdConverter` matches only what an id can be — 1 to
2^31-1 on both databases — so anything else is the 404 of a missing object.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from core.schemas.base import INT_MAX as MAX_ID


class IdConverter(IntegerConverter):
    """A positive id: ``0``, negatives and values above 2^31-1 do not match (404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def id_param_schema(converter: IdConverter) -> dict:
    """The OpenAPI schema of an id path parameter (flask-smorest converter mapping)."""
    return {"type": "integer", "minimum": converter.min or 1, "maximum": converter.max or MAX_ID}
