"""Enterprises: list, detail, create, update."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.extensions import db
from core.plugins import plugins
from core.schemas.base import BaseSchema, Int, List, Nested
from core.schemas.enterprise import EnterpriseFilterIn, EnterpriseIn, EnterpriseOut
from core.services import enterprises
from core.views.api import authenticate, current_actor

PREFIX = "/enterprises"
blp = Blueprint("api_enterprises", __name__, description="企业（生产经营单位）")
blp.before_request(authenticate)


class EnterprisePageOut(BaseSchema):
    items = List(Nested(EnterpriseOut))
    next_after = Int(allow_none=True, metadata={"description": "下一页游标：作为 after 参数传入；为空表示最后一页"})
    total = Int()


class EnterpriseUpdateIn(EnterpriseIn):
    """Partial update: only the fields sent change; ``version`` must equal the current version (else 409)."""

    version = Int(required=True, load_only=True)


# Any field but ``version`` may be left out; ``partial=True`` would waive ``version``'s ``required`` too.
_UPDATE_PARTIAL = tuple(name for name in EnterpriseUpdateIn._declared_fields if name != "version")
_OUT_FIELDS = tuple(EnterpriseOut._declared_fields)


def dump(ent) -> dict:
    """Raw values for the ``EnterpriseOut`` response schema, which dumps them (once), plus sector names."""
    data = {name: getattr(ent, name) for name in _OUT_FIELDS}
    registry = plugins()
    data["sectors"] = [{"sector": s.sector, "sector_name": registry.sector_name(s.sector),
                        "activities": s.activities, "data": s.data} for s in ent.sectors]
    return data


@blp.route("")
@blp.arguments(EnterpriseFilterIn, location="query", as_kwargs=False)
@blp.response(200, EnterprisePageOut)
def list_(filters):
    """List the enterprises in the caller's scope, newest first (keyset pagination with ``after``)."""
    page = enterprises.list_enterprises(db.session, current_actor(), filters, after=filters.get("after"),
                                        size=filters.get("size") or 20)
    return {"items": [dump(e) for e in page.items], "next_after": page.next_after, "total": page.total}


@blp.route("", methods=["POST"])
@blp.arguments(EnterpriseIn)
@blp.response(201, EnterpriseOut)
def create(data):
    """Create an enterprise (regulators and admins)."""
    ent = enterprises.create_enterprise(db.session, current_actor(), data)
    db.session.commit()
    return dump(ent)


@blp.route("/<int:enterprise_id>")
@blp.response(200, EnterpriseOut)
def detail(enterprise_id: int):
    """One enterprise; 404 when it does not exist or is outside the caller's scope."""
    return dump(enterprises.get_enterprise(db.session, current_actor(), enterprise_id))


@blp.route("/<int:enterprise_id>", methods=["PATCH"])
@blp.arguments(EnterpriseUpdateIn(partial=_UPDATE_PARTIAL))
@blp.response(200, EnterpriseOut)
def update(data, enterprise_id: int):
    """Change some fields; 409 when ``version`` is not the current one."""
    ent = enterprises.update_enterprise(db.session, current_actor(), enterprise_id, data)
    db.session.commit()
    return dump(ent)
