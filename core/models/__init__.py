"""All models, imported here so that Alembic and the app see one metadata."""

from core.models.audit import AuditEntry
from core.models.base import Base
from core.models.org import (
    Agency,
    Enterprise,
    EnterpriseSector,
    Jurisdiction,
    JurisdictionLevel,
    SupervisionLevel,
)
from core.models.user import ApiToken, Role, User, UserRole

__all__ = [
    "AuditEntry",
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
