"""The fields of the hidden-danger web forms: one list per closed-loop action, rendered by one macro.

Each action's fields mirror its schema in :data:`core.services.hazard_flow.ACTIONS` (a test checks that every
schema field has a form field), so the web form posts exactly what the service validates. Photos are not schema
fields: :data:`EVIDENCE` says which actions take them and whether they are required.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.schemas.hazard import SUPERVISION_LEVELS
from core.services.deadlines import DEADLINE_KINDS
from core.services.hazard_flow import PLAN_FIELDS


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | textarea | number | date | select | radio
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False
    help: str = ""


_COMMENT = Field("comment", "说明", "textarea")
_COMMENT_REQUIRED = Field("comment", "说明", "textarea", required=True)

ACTION_FIELDS: dict[str, list[Field]] = {
    "plan": [
        *(Field(name, label, "textarea") for name, label in PLAN_FIELDS.items()),
        Field("funds_amount", "治理资金（万元）", "number"),
        Field("approved_by_name", "主要负责人（组织制定并实施）"),
        _COMMENT,
    ],
    "assign": [
        Field("responsible_name", "整改责任人", required=True),
        Field("measures", "整改措施", "textarea"),
        Field("deadline", "整改期限", "date", help="期限与天数填一项；都不填时按默认期限政策计算"),
        Field("days", "整改天数", "number"),
        Field("deadline_kind", "天数计法", "select", tuple(DEADLINE_KINDS.items())),
        _COMMENT,
    ],
    "rectify_on_spot": [_COMMENT_REQUIRED],
    "request_review": [_COMMENT_REQUIRED],
    "review_pass": [_COMMENT_REQUIRED],
    "review_fail": [Field("deadline", "新的整改期限", "date", required=True), _COMMENT_REQUIRED],
    "close": [_COMMENT_REQUIRED],
    "list": [
        Field("level", "督办层级", "select", tuple(SUPERVISION_LEVELS.items()), required=True),
        Field("due_date", "督办期限", "date", required=True),
        Field("leader_name", "督办责任领导", required=True),
        Field("requirements", "督办要求", "textarea"),
        _COMMENT,
    ],
    "request_extension": [
        Field("new_deadline", "申请延至", "date", required=True),
        Field("reason", "延期理由", "textarea", required=True),
        _COMMENT,
    ],
    "decide_extension": [
        Field("approve", "审批结果", "radio", (("true", "批准延期"), ("false", "驳回")), required=True),
        Field("comment", "审批意见", "textarea"),
    ],
}

#: Actions that take evidence photos → whether at least one is required.
EVIDENCE: dict[str, bool] = {"rectify_on_spot": True, "request_review": False, "review_pass": False,
                             "review_fail": False, "close": False}
PHOTOS = "photos"
