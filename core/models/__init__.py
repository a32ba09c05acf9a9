"""All models, imported here so that Alembic and the app see one metadata."""

from core.models.assessment import (
    Assessment,
    AssessmentItem,
    AssessmentStatus,
    ItemResult,
    LifecycleStatus,
    StandardizationEvent,
    StandardizationLifecycle,
)
from core.models.audit import AuditEntry
from core.models.base import Base
from core.models.catalog import StoredChecklist, StoredChecklistItem, StoredRuleItem, StoredRuleSet
from core.models.document import (
    Document,
    DocumentCounter,
    DocumentHazard,
    DocumentSigner,
    DocumentStatus,
    LegalReview,
    LegalReviewStatus,
)
from core.models.hazard import (
    Attachment,
    Hazard,
    HazardExtension,
    HazardPlan,
    HazardState,
    HazardSupervision,
    HazardTransition,
    Notification,
)
from core.models.idempotency import IdempotencyRecord
from core.models.inspection import (
    InspectionAnswer,
    InspectionEvent,
    InspectionRun,
    InspectionRunChecklist,
    InspectionSignature,
    RunStatus,
)
from core.models.org import (
    Agency,
    Enterprise,
    EnterpriseSector,
    Jurisdiction,
    JurisdictionLevel,
    SupervisionLevel,
)
from core.models.plan import Campaign, DrawItem, InspectionDraw, InspectionPlan
from core.models.report import HazardSelfReport, SelfReportStatus
from core.models.risk import ControlMeasure, InspectionTask, RiskGrade, RiskPoint, TaskCheck
from core.models.user import ApiToken, Role, User, UserRole

__all__ = [
    "Assessment",
    "AssessmentItem",
    "AssessmentStatus",
    "ItemResult",
    "LifecycleStatus",
    "StandardizationEvent",
    "StandardizationLifecycle",
    "Attachment",
    "AuditEntry",
    "Document",
    "DocumentCounter",
    "DocumentHazard",
    "DocumentSigner",
    "LegalReview",
    "LegalReviewStatus",
    "DocumentStatus",
    "ControlMeasure",
    "Hazard",
    "HazardExtension",
    "HazardPlan",
    "HazardSelfReport",
    "Campaign",
    "DrawItem",
    "InspectionDraw",
    "InspectionPlan",
    "HazardState",
    "HazardSupervision",
    "HazardTransition",
    "IdempotencyRecord",
    "InspectionAnswer",
    "InspectionEvent",
    "InspectionRun",
    "InspectionRunChecklist",
    "InspectionSignature",
    "InspectionTask",
    "RunStatus",
    "Notification",
    "RiskGrade",
    "RiskPoint",
    "SelfReportStatus",
    "StoredChecklist",
    "StoredChecklistItem",
    "StoredRuleItem",
    "StoredRuleSet",
    "TaskCheck",
    "Agency",
    "ApiToken",
    "Base",
    "Enterprise",
    "EnterpriseSector",
    "Jurisdiction",
    "JurisdictionLevel",
    "Role",
    "SupervisionLevel",
    "User",
    "UserRole",
]
