"""执法文书 at the boundaries: the list filters and the forms that issue a 指令书 or a 复查意见书."""

from __future__ import annotations

from typing import Any

from marshmallow import pre_load

from core.schemas.base import BaseSchema, Bool, Date, Int, List, Nested, Str, length


class _Blankless(BaseSchema):
    @pre_load
    def _blank(self, data: Any, **kwargs: Any) -> Any:
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


class DocumentFilterIn(_Blankless):
    class Meta:
        unknown = "exclude"

    doc_type = Str(allow_none=True, validate=length(30))
    enterprise_id = Int(allow_none=True)
    date_from = Date(allow_none=True)
    date_to = Date(allow_none=True)


class OrderItemIn(_Blankless):
    hazard_id = Int(required=True)
    deadline = Date(allow_none=True)
    version = Int(allow_none=True)


class OrderIn(_Blankless):
    """责令限期整改指令书: hazards with their own deadline or the common one, two or more signers."""

    enterprise_id = Int(required=True)
    deadline = Date(allow_none=True)
    items = List(Nested(OrderItemIn), required=True)
    signer_ids = List(Int(), required=True)
    supersedes_id = Int(allow_none=True)


class ReviewItemIn(_Blankless):
    hazard_id = Int(required=True)
    passed = Bool(required=True)
    new_deadline = Date(allow_none=True)
    version = Int(allow_none=True)


class ReviewIn(_Blankless):
    """整改复查意见书: one result per hazard of the 指令书 (failed ones with a new deadline)."""

    order_id = Int(required=True)
    results = List(Nested(ReviewItemIn), required=True)
    signer_ids = List(Int(), required=True)
    opinion = Str(allow_none=True, validate=length(2000))
