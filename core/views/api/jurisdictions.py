"""Jurisdictions: the tree nodes in the caller's scope."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.extensions import db
from core.schemas.base import Int
from core.schemas.org import JurisdictionIn, JurisdictionOut
from core.services import jurisdictions
from core.views.api import authenticate, current_actor

PREFIX = "/jurisdictions"
blp = Blueprint("api_jurisdictions", __name__, description="辖区")
blp.before_request(authenticate)


class JurisdictionUpdateIn(JurisdictionIn):
    version = Int(required=True, load_only=True)


# Any field but ``version`` may be left out; ``partial=True`` would waive ``version``'s ``required`` too.
_UPDATE_PARTIAL = tuple(name for name in JurisdictionUpdateIn._declared_fields if name != "version")


@blp.route("")
@blp.response(200, JurisdictionOut(many=True))
def list_():
    """All nodes of the caller's subtree in tree order (parents first)."""
    return jurisdictions.list_jurisdictions(db.session, current_actor())


@blp.route("", methods=["POST"])
@blp.arguments(JurisdictionIn)
@blp.response(201, JurisdictionOut)
def create(data):
    """Create a node (admins)."""
    node = jurisdictions.create_jurisdiction(db.session, current_actor(), data)
    db.session.commit()
    return node


@blp.route("/<int:node_id>")
@blp.response(200, JurisdictionOut)
def detail(node_id: int):
    """One node; 404 outside the caller's scope."""
    return jurisdictions.get_jurisdiction(db.session, current_actor(), node_id)


@blp.route("/<int:node_id>", methods=["PATCH"])
@blp.arguments(JurisdictionUpdateIn(partial=_UPDATE_PARTIAL))
@blp.response(200, JurisdictionOut)
def update(data, node_id: int):
    """Rename, recode or move a node (admins); 409 on a stale ``version``."""
    node = jurisdictions.update_jurisdiction(db.session, current_actor(), node_id, data)
    db.session.commit()
    return node
