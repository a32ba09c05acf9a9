"""Access-matrix entries of the statistics and self-report pages (``/stats``).

Statistics need ``stats.view`` (everyone but grid workers). Self-report drafting is for enterprise staff of their
own enterprise; submitting for its 主要负责人 only. Reports are made in the resolvers through the services for
测试E1 (翔安区) with a period that has ended (2025 Q1): a draft (seen by E1's staff only) and a submission (seen by
E1's staff and the government users whose scope covers 翔安区).
"""

from __future__ import annotations

from core.services import self_reports
from core.services.stats import Period
from tests.test_access_matrix import ENTERPRISE_USERS, EVERYONE, SEES_E1, Case

PERIOD = Period(2025, 1)
STATS = EVERYONE - {"grid1"}
GOV_STATS = STATS - ENTERPRISE_USERS
E1_STAFF = frozenset({"ent1_mgr", "ent1_principal"})


def draft_of_e1(session, world, username) -> int:
    """Resolver: a fresh draft of E1's 2025 Q1 table (any earlier draft of the period is submitted first)."""
    ent = world.enterprises["E1"]
    old = self_reports._draft_of(session, ent, PERIOD)
    if old is not None:
        self_reports.submit(session, world.user(session, "ent1_principal"), old.id,
                            {"version": old.version, "analysis": "矩阵", "signer_name": "矩阵"})
    report = self_reports.create_draft(session, world.user(session, "ent1_mgr"), ent, PERIOD,
                                       {"analysis": "权限矩阵测试", "signer_name": "矩阵负责人"})
    session.flush()
    return report.id


def submission_of_e1(session, world, username) -> int:
    """Resolver: a fresh submission of E1's 2025 Q1 table."""
    report_id = draft_of_e1(session, world, username)
    report = self_reports.get_report(session, world.user(session, "ent1_mgr"), report_id)
    self_reports.submit(session, world.user(session, "ent1_principal"), report_id, {"version": report.version})
    session.flush()
    return report_id


def report_form(session, world, username, args) -> dict:
    from core.models import HazardSelfReport

    report = session.get(HazardSelfReport, args["report_id"])
    return {"version": str(report.version if report else 1), "analysis": "权限矩阵修改", "signer_name": "矩阵负责人"}


def new_report_form(session, world, username, args) -> dict:
    return {"period": PERIOD.key, "analysis": "权限矩阵新建"}


EXPECTED = {
    "stats.index": [Case(allowed=STATS)],
    "stats.enterprises": [Case(allowed=STATS)],
    "stats.export": [Case(allowed=STATS)],
    "stats.report_pdf": [Case(allowed=STATS)],
    "stats.submissions": [Case(allowed=GOV_STATS)],
    # Enterprise users have no jurisdiction to rank (node_stats: 404), grid workers no stats.view (403).
    "stats.league_table": [Case(allowed=GOV_STATS, not_found=ENTERPRISE_USERS)],
    "stats.league_export": [Case(allowed=GOV_STATS, not_found=ENTERPRISE_USERS)],
    # The enforcement summary is the government's: enterprise users 403 (PermissionDenied), grid workers 403.
    "stats.enforcement": [Case(allowed=GOV_STATS)],
    "stats.enforcement_export": [Case(allowed=GOV_STATS)],
    "stats.reports": [Case(allowed=ENTERPRISE_USERS)],
    "stats.report_new": [Case(allowed=ENTERPRISE_USERS, body=new_report_form)],
    "stats.report_detail": [
        Case("submitted", {"report_id": submission_of_e1}, allowed=SEES_E1 & STATS,
             not_found=STATS - SEES_E1),
        Case("draft", {"report_id": draft_of_e1}, allowed=E1_STAFF, not_found=STATS - E1_STAFF),
        Case("missing", {"report_id": 987654}, not_found=STATS),
    ],
    "stats.report_file": [
        Case("submitted", {"report_id": submission_of_e1}, allowed=SEES_E1 & STATS,
             not_found=STATS - SEES_E1),
        Case("draft", {"report_id": draft_of_e1}, allowed=E1_STAFF, not_found=STATS - E1_STAFF),
    ],
    "stats.report_save": [
        Case("draft", {"report_id": draft_of_e1}, allowed=E1_STAFF, not_found={"ent4_mgr"}, body=report_form),
        Case("missing", {"report_id": 987654}, not_found=ENTERPRISE_USERS, body=report_form),
    ],
    "stats.report_submit": [
        Case("draft", {"report_id": draft_of_e1}, allowed={"ent1_principal"}, not_found={"ent4_mgr"},
             body=report_form),
    ],
}
