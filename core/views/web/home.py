"""The home page, one per role: the actor's work queues (core/services/workqueue.py), then the overview."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user, login_required

from core.extensions import db
from core.services import dashboard, workqueue

bp = Blueprint("home", __name__)

#: Where a queue's number leads: the list that has exactly that many rows (workqueue module doc).
LISTINGS = {
    "hazards": "hazards.index", "submissions": "stats.submissions", "legal_reviews": "documents.legal_index",
    "tasks": "inspections.tasks", "documents": "documents.index", "risk_tasks": "risks.due",
}
#: Where an item leads: the page on which its job is done.
TARGETS = {
    "hazard": ("hazards.detail", "hazard_id"), "enterprise": ("enterprises.detail", "enterprise_id"),
    "legal_review": ("documents.legal_detail", "review_id"), "run": ("inspections.detail", "run_id"),
    "task_start": ("inspections.enforce_start", "enterprise_id"), "document": ("documents.detail", "document_id"),
    "risk_check": ("risks.check", "task_id"), "self_check": ("inspections.start", None),
}


def listing_url(queue: workqueue.Queue) -> str:
    kind, filters = queue.listing
    return url_for(LISTINGS[kind], **filters)


def target_url(target: tuple[str, int]) -> str:
    endpoint, arg = TARGETS[target[0]]
    return url_for(endpoint, **({arg: target[1]} if arg else {}))


@bp.get("/")
@login_required
def index():
    queues = workqueue.queues_for(db.session, current_user)
    enterprise_user = bool(current_user.enterprise_id) and not current_user.has_role(*dashboard.GOVERNMENT_OR_ADMIN)
    summary = None if enterprise_user else dashboard.enterprise_summary(db.session, current_user)
    return render_template("home.html", queues=queues, summary=summary, listing_url=listing_url,
                           target_url=target_url, enterprise_user=enterprise_user)
