"""The caller's own account."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.schemas.user import UserOut
from core.views.api import authenticate, current_actor

PREFIX = "/me"
blp = Blueprint("api_me", __name__, description="当前用户")
blp.before_request(authenticate)


@blp.route("")
@blp.response(200, UserOut)
def me():
    """Who the token belongs to, with roles and scope anchors."""
    user = current_actor()
    # Raw values: the response schema dumps them (dumping twice breaks on dates).
    return {**{name: getattr(user, name) for name in UserOut._declared_fields},
            "roles": sorted(r.value for r in user.roles)}
