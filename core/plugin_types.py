"""Plain data types that cross the plugin boundary.

Hooks take and return these (not ORM objects) so that sector logic stays pure and unit-testable, and so that a
plugin never depends on how the core stores things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import Schema


@dataclass(frozen=True)
class SectorInfo:
    """Who a sector plugin is: returned by ``register_sector``."""

    #: Stable machine code, equal to the entry-point name (``hazchem``).
    code: str
    #: Chinese name of the special rectification field (危险化学品).
    name: str
    #: Version of the plugin's data and logic; shown on the plugins page and recorded with decisions.
    version: str
    description: str = ""
    #: Activities an enterprise can have in this sector (危化品 生产/经营/使用 …); used as sector tags.
    activities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectType:
    """An inspectable object type beyond enterprises (R-A3): places, buildings, equipment, vehicles, vessels."""

    code: str
    name: str
    sector: str
    description: str = ""


@dataclass(frozen=True)
class EnterpriseFieldSpec:
    """A sector's fields on the enterprise record, stored in ``enterprise_sectors.data``.

    ``schema`` validates and normalises the data at every boundary (form, API, import). ``template`` optionally
    names a Jinja template that renders the data on the enterprise detail page; it receives ``data`` and
    ``enterprise``.
    """

    sector: str
    schema: type[Schema]
    template: str | None = None
    #: Example data (valid for ``schema``): the plugin contract test renders ``template`` and asks
    #: ``register_dated_items`` with it; the docs show it.
    example: dict[str, Any] | None = None


def as_date(value: Any) -> date | None:
    """A date from plugin data as stored in JSON: a ``date`` as is, an ISO string (``2026-03-01``, or the date part
    of a timestamp), else None (empty, malformed or another type) — sector data is validated on save, but old rows
    and rule sets are read back as they were written."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class DatedItem:
    """A dated duty in an enterprise's sector data (returned by ``dated_items``): a licence's or an
    inspection's validity, reminded before and after ``due``."""

    #: What expires, in Chinese, e.g. "安全生产许可证（闽FM安许证字〔2024〕001号）" or "电梯 31103502… 定期检验".
    label: str
    due: date
    #: Stable key of the item within the enterprise's data (used to send each reminder once), e.g. "licence".
    key: str


@dataclass(frozen=True)
class Finding:
    """What is known about a failed check when deciding its hazard level (input of ``classify_hazard``)."""

    sector: str | None
    description: str
    #: Checklist item code, e.g. ``hazchem-basic/3.2`` (None for a free-text finding).
    checklist_item: str | None = None
    #: Rule item that the checklist item cites, e.g. ``hazchem-2017-121#5`` (``<rule set code>#<item number>``,
    #: see docs/rules_and_checklists.md).
    rule_item: str | None = None
    #: Level suggested by the checklist or the person who found it.
    suggested_level: str | None = None
    #: Anything else a plugin may look at. The core always gives ``enterprise_id``, ``is_high_risk``, ``source``
    #: and ``found_on`` (the date of the finding: plugins judge with the rule edition in force that day);
    #: inspections add the answer value and object type.
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Classification:
    """Decision of ``classify_hazard``: the level and, for a major hazard, the rule item that makes it so."""

    level: str
    rule_item: str | None = None
    #: Who decided: the plugin code or ``core``; recorded on the hazard.
    decided_by: str = "core"
    reason: str = ""


@dataclass(frozen=True)
class HazardTransitionEvent:
    """Passed to ``on_hazard_transition`` after a hidden danger changed state and the change was flushed."""

    hazard_id: int
    sector: str | None
    from_state: str | None
    to_state: str
    action: str
    actor_id: int | None
    comment: str = ""


@dataclass(frozen=True)
class DocumentField:
    """One fill-in of a plugin document type (the issue form shows it; the PDF template receives its value)."""

    #: Key in the document's ``fields`` (``doc.fields.<name>`` in the PDF template).
    name: str
    #: Chinese label shown on the form.
    label: str
    #: ``text`` (one line), ``textarea`` (several lines) or ``date`` (YYYY-MM-DD; the template gets the ISO text).
    kind: str = "text"
    required: bool = True
    max_length: int = 500


@dataclass(frozen=True)
class DocumentType:
    """A document type a plugin adds (returned by ``register_document_types``, R-O2).

    Numbered like the core's types: 机关简称 + ``number_code`` (文书代字) + year + sequence. ``template`` is a
    Jinja path in one of the plugin's template folders (``register_template_dirs``), e.g.
    ``gongmao/doc_gongmao_dust_notice.html``; it extends ``pdf/layout.html`` and receives ``doc`` (agency,
    enterprise, number, date, signers, ``fields``). A plugin type carries fields and neutral wording only.
    """

    #: Unique across the core's ``DOCUMENT_TYPES`` and every plugin; prefix with the sector code.
    code: str
    #: Chinese name (the PDF title), e.g. 粉尘防爆专项检查告知书.
    name: str
    #: 文书代字 in the number, e.g. 应急粉告.
    number_code: str
    template: str
    sector: str
    fields: tuple[DocumentField, ...] = ()
    #: Documents of this type wait for 法制审核 before they are issued and numbered (R-E5).
    needs_legal_review: bool = False
    #: How many 执法人员 sign (0: an agency notice without personal signatures).
    min_signers: int = 2
    description: str = ""
