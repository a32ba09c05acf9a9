"""Access-matrix entries of the catalog pages (``/catalog``) and API (``/api/v1/catalog``; R-P2).

The catalog is reference data: everyone logged in reads it (``catalog.view``); an unknown code or version is
404 for everyone. The resolvers store the fake sector's catalog first (``sync_catalog`` is idempotent).
"""

from __future__ import annotations

from core.services.catalog import sync_catalog
from tests.test_access_matrix import EVERYONE, Case, api


def synced(value: str):
    def make(session, world, username) -> str:
        sync_catalog(session)
        session.flush()
        return value

    return make


CL = {"code": synced("fake-basic"), "version": "1.0"}
MISSING_CL = {"code": "fake-basic", "version": "9.9"}

EXPECTED = {
    "catalog.index": [Case(allowed=EVERYONE)],
    "catalog.rule_set": [
        Case("stored", {"code": synced("fake-2020-r1")}, allowed=EVERYONE),
        Case("missing", {"code": "fake-1999-none"}, not_found=EVERYONE),
    ],
    "catalog.checklist": [
        Case("stored", CL, allowed=EVERYONE),
        Case("missing", MISSING_CL, not_found=EVERYONE),
    ],
    "catalog.checklist_xlsform": [
        Case("stored", CL, allowed=EVERYONE),
        Case("missing", MISSING_CL, not_found=EVERYONE),
    ],
    "api_catalog.rule_sets": api(Case(allowed=EVERYONE)),
    "api_catalog.rule_set": api(
        Case("stored", {"code": synced("fake-2020-r1")}, allowed=EVERYONE),
        Case("missing", {"code": "fake-1999-none"}, not_found=EVERYONE),
    ),
    "api_catalog.checklists": api(Case(allowed=EVERYONE)),
    "api_catalog.checklist": api(
        Case("stored", CL, allowed=EVERYONE),
        Case("missing", MISSING_CL, not_found=EVERYONE),
    ),
}
