"""Access-matrix entries of the hidden-danger web pages (``/hazards``).

The same hazards and rules as the API's entries (:mod:`tests.access.hazards_api`): hazards are made by the
enterprise's own manager; an action page opens (GET) for whoever may take the action now and is refused with 403
to those who see the hazard but may not (grid workers, the expired inspector, the platform admin for ``assign``).
"""

from __future__ import annotations

from tests.access.hazards_api import (
    ASSIGN_E1,
    ASSIGN_E4,
    hazard_of,
    newest_attachment,
    other_hazards_attachment,
)
from tests.test_access_matrix import ADMIN, EVERYONE, SEES_E1, SEES_E4, Case

EXPORTERS = EVERYONE - {"grid1"}  # hazard.export: every role but grid workers

EXPECTED = {
    "hazards.index": [Case(allowed=EVERYONE)],
    "hazards.supervised": [Case(allowed=EVERYONE)],  # scoped: each sees the listings of their own scope
    "hazards.export": [
        Case("csv", {"fmt": "csv"}, allowed=EXPORTERS),
        Case("xlsx", {"fmt": "xlsx"}, allowed=EXPORTERS),
        Case("other format", {"fmt": "pdf"}, allowed=frozenset(), not_found=EXPORTERS),
    ],
    "hazards.create": [Case(allowed=EVERYONE - ADMIN)],
    "hazards.detail": [
        Case("E1", {"hazard_id": hazard_of("E1")}, allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4", {"hazard_id": hazard_of("E4")}, allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
        Case("missing", {"hazard_id": 987654}, not_found=EVERYONE),
    ],
    "hazards.act": [
        Case("E1 assign", {"hazard_id": hazard_of("E1"), "code": "assign"}, allowed=ASSIGN_E1,
             not_found=EVERYONE - SEES_E1),
        Case("E4 assign", {"hazard_id": hazard_of("E4"), "code": "assign"}, allowed=ASSIGN_E4,
             not_found=EVERYONE - SEES_E4),
        Case("unknown action", {"hazard_id": hazard_of("E1"), "code": "demolish"}, not_found=EVERYONE),
        Case("missing", {"hazard_id": 987654, "code": "assign"}, not_found=EVERYONE),
    ],
    "hazards.attachment": [
        Case("E1 photo", {"hazard_id": hazard_of("E1", photo=True), "attachment_id": newest_attachment},
             allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4 photo", {"hazard_id": hazard_of("E4", photo=True), "attachment_id": newest_attachment},
             allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
        Case("another hazard's photo", {"hazard_id": hazard_of("E1"), "attachment_id": other_hazards_attachment},
             not_found=EVERYONE),
        Case("missing", {"hazard_id": hazard_of("E1"), "attachment_id": 987654}, not_found=EVERYONE),
    ],
}
