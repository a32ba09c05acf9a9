"""执法文书 at the boundaries: list filters, the bodies that issue a 指令书, a 复查意见书, a 挂牌督办通知书 or a
plugin's document, 法制审核 decisions, and the API's output."""

from __future__ import annotations

from typing import Any

from marshmallow import pre_load

from core.schemas.base import (
    BaseSchema,
    Bool,
    Date,
    Dict,
    Id,
    Int,
    List,
    Nested,
    Str,
    document_type_choice,
    in_range,
    length,
)
from core.schemas.hazard import UtcDateTime


class _Blankless(BaseSchema):
    @pre_load
    def _blank(self, data: Any, **kwargs: Any) -> Any:
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


class DocumentFilterIn(_Blankless):
    """Filters of the document list (web and API): type, enterprise, date range, a signing inspector."""

    class Meta:
        unknown = "exclude"

    doc_type = Str(allow_none=True, validate=document_type_choice())
    enterprise_id = Id(allow_none=True)
    date_from = Date(allow_none=True, metadata={"description": "文书日期起（含）"})
    date_to = Date(allow_none=True, metadata={"description": "文书日期止（含）"})
    inspector_id = Id(allow_none=True, metadata={"description": "签名执法人员的用户编号"})
    q = Str(allow_none=True, validate=length(100), metadata={"description": "文书编号或企业名称（包含）"})
    unreceived = Bool(allow_none=True, metadata={"description": "只列被检查单位尚未签收的有效文书"})


class DocumentPageIn(DocumentFilterIn):
    """The API list: filters plus keyset paging (``after`` = the previous page's ``next_after``)."""

    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(1, 200))


class OrderItemIn(_Blankless):
    hazard_id = Id(required=True)
    deadline = Date(allow_none=True, metadata={"description": "本项整改期限（不填则用统一期限）"})
    version = Int(allow_none=True, metadata={"description": "隐患版本号（过期则 409）"})


class OrderIn(_Blankless):
    """责令限期整改指令书: hazards with their own deadline or the common one, two or more signers."""

    enterprise_id = Id(required=True)
    deadline = Date(allow_none=True, metadata={"description": "统一整改期限"})
    items = List(Nested(OrderItemIn), required=True)
    signer_ids = List(Id(), required=True, metadata={"description": "签名执法人员（至少两名，执法证有效）"})
    supersedes_id = Id(allow_none=True, metadata={"description": "更正的原指令书"})
    on = Date(allow_none=True, metadata={"description": "文书日期（默认今天）"})
    inspection_run_id = Id(allow_none=True, metadata={"description": "来源执法检查（记入其全过程记录）"})
    measures = List(Str(validate=length(30)), load_default=list,
                    metadata={"description": "对重大事故隐患责令采取的措施代码（配置 ORDER_MAJOR_MEASURES，"
                                             "如 evacuate、suspend、stop_use）"})


class ReviewItemIn(_Blankless):
    hazard_id = Id(required=True)
    passed = Bool(required=True)
    new_deadline = Date(allow_none=True, metadata={"description": "未整改合格的新整改期限"})
    version = Int(allow_none=True)


class ReviewIn(_Blankless):
    """整改复查意见书: one result per hazard of the 指令书 (failed ones with a new deadline)."""

    order_id = Id(required=True)
    results = List(Nested(ReviewItemIn), required=True)
    signer_ids = List(Id(), required=True)
    opinion = Str(allow_none=True, validate=length(2000))
    on = Date(allow_none=True)
    inspection_run_id = Id(allow_none=True)


class NoticeIn(_Blankless):
    """挂牌督办通知书 for an active 县区/市/省 listing (``supervision_id``: the listing's id)."""

    supervision_id = Id(required=True)
    on = Date(allow_none=True)
    supersedes_id = Id(allow_none=True)


class TypedDocumentIn(_Blankless):
    """A document of a plugin's type: its fill-ins in ``fields`` (checked against the type's field list)."""

    doc_type = Str(required=True, validate=document_type_choice())
    enterprise_id = Id(required=True)
    # Not named ``fields`` in Python: that is the Schema's own attribute.
    field_values = Dict(keys=Str(), values=Str(allow_none=True), load_default=dict, data_key="fields",
                        attribute="fields", metadata={"description": "填写项：名称 → 值（日期 YYYY-MM-DD）"})
    signer_ids = List(Id(), load_default=list)
    on = Date(allow_none=True)
    supersedes_id = Id(allow_none=True)
    inspection_run_id = Id(allow_none=True)


class LegalDecisionIn(BaseSchema):
    """法制审核 decision: approve (the document is issued then) or return with reasons."""

    version = Int(required=True, metadata={"description": "送审记录的版本号（过期则 409）"})
    approve = Bool(required=True)
    opinion = Str(allow_none=True, validate=length(2000), metadata={"description": "审核意见；退回时必填"})


def request_schema(doc_type: str) -> type[BaseSchema]:
    """The input schema of a document type's issue request (to reload a request kept for 法制审核)."""
    return {"rectification_order": OrderIn, "review_opinion": ReviewIn,
            "supervision_notice": NoticeIn}.get(doc_type, TypedDocumentIn)


# --- output (API) -----------------------------------------------------------------------------------------------

class DocumentHazardOut(BaseSchema):
    hazard_id = Id()
    position = Int(metadata={"description": "在文书中的序号"})
    deadline = Date(allow_none=True)
    result = Str(allow_none=True, metadata={"description": "复查结果：passed 已整改合格 / failed 未整改合格"})


class LegalReviewOut(BaseSchema):
    """法制审核 of a document: the request, its state and the decision."""

    id = Id()
    doc_type = Str()
    type_name = Str()
    enterprise_id = Id()
    enterprise_name = Str()
    summary = Str()
    status = Str(metadata={"description": "pending 待审核 / approved 通过（已签发）/ returned 退回"})
    status_label = Str()
    requested_by_id = Id()
    requested_by_name = Str()
    requested_at = UtcDateTime()
    decided_by_id = Id(allow_none=True)
    decided_by_name = Str(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    opinion = Str(allow_none=True)
    document_id = Id(allow_none=True, metadata={"description": "审核通过后签发的文书"})
    request = Dict(metadata={"description": "送审的文书内容"})
    version = Int()


class DocumentOut(BaseSchema):
    """An issued document (list item); ``pdf_url`` downloads the PDF exactly as issued."""

    id = Id()
    doc_type = Str()
    type_name = Str()
    number = Str(metadata={"description": "文书编号，如（翔）应急责改〔2026〕12号"})
    agency_id = Id()
    agency_name = Str()
    enterprise_id = Id()
    enterprise_name = Str()
    issued_on = Date()
    issued_at = UtcDateTime()
    status = Str(metadata={"description": "issued 有效 / superseded 已被更正文书替代"})
    status_label = Str()
    signers = List(Dict(), metadata={"description": "签名执法人员：user_id、name、cert_number"})
    received_at = UtcDateTime(allow_none=True)
    verify_code = Str()
    pdf_sha256 = Str()
    pdf_url = Str()


class DocumentDetailOut(DocumentOut):
    """One document with its filled fields, the hazards it lists, its relations and its 法制审核."""

    data = Dict(metadata={"description": "文书填写内容（签发时固定）"})
    hazards = List(Nested(DocumentHazardOut))
    related_id = Id(allow_none=True, metadata={"description": "关联文书（复查意见书 → 指令书）"})
    supersedes_id = Id(allow_none=True)
    superseded_by_id = Id(allow_none=True)
    inspection_run_id = Id(allow_none=True)
    received_by_id = Id(allow_none=True)
    legal_review = Nested(LegalReviewOut, allow_none=True)


class DocumentPageOut(BaseSchema):
    items = List(Nested(DocumentOut))
    next_after = Int(allow_none=True, metadata={"description": "下一页的 after 参数；null 表示没有下一页"})
    total = Int()
    total_capped = Bool()


class IssuedOut(BaseSchema):
    """The answer to an issue request: the document, or the pending 法制审核 when the type needs one."""

    status = Str(metadata={"description": "issued 已签发 / pending_legal_review 已送法制审核"})
    document = Nested(DocumentDetailOut, allow_none=True)
    legal_review = Nested(LegalReviewOut, allow_none=True)
