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
from core.models.document import Document, DocumentCounter, DocumentHazard, DocumentStatus
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
from core.models.inspection import InspectionAnswer, InspectionRun, InspectionRunChecklist, RunStatus
from core.models.org import (
    Agency,
    Enterprise,
    EnterpriseSector,
    Jurisdiction,
    JurisdictionLevel,
    SupervisionLevel,
)
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
    "DocumentStatus",
    "ControlMeasure",
    "Hazard",
    "HazardExtension",
    "HazardPlan",
    "HazardSelfReport",
    "HazardState",
    "HazardSupervision",
    "HazardTransition",
    "InspectionAnswer",
    "InspectionRun",
    "InspectionRunChecklist",
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
