"""Who may do what: one table of permissions to roles, checked by services (never only in templates).

Scope (which rows) is separate, in :mod:`core.services.scope`: a permission says a regulator may update
enterprises; the scope says which ones.
"""

from __future__ import annotations

from core.models import Role
from core.services.actors import Actor
from core.services.errors import PermissionDenied

_ALL = frozenset(Role)
_GOV = frozenset({Role.INSPECTOR, Role.REGULATOR, Role.GRID_WORKER, Role.ADMIN})
_ENT = frozenset({Role.ENTERPRISE_MANAGER, Role.ENTERPRISE_PRINCIPAL})

#: permission → roles that hold it, with the message shown when refused.
PERMISSIONS: dict[str, tuple[frozenset[Role], str]] = {
    "enterprise.view": (_ALL, "您无权查看企业信息"),
    "enterprise.create": (frozenset({Role.ADMIN, Role.REGULATOR}), "只有监管人员或管理员可以新增企业"),
    "enterprise.update": (_ENT | {Role.ADMIN, Role.REGULATOR}, "您无权修改企业信息"),
    # Fields that decide how an enterprise is supervised; an enterprise may not set them on itself.
    "enterprise.update_supervision": (frozenset({Role.ADMIN, Role.REGULATOR}), "监管属性只能由监管人员修改"),
    "enterprise.import": (frozenset({Role.ADMIN, Role.REGULATOR}), "只有监管人员或管理员可以批量导入企业"),
    "enterprise.export": (_GOV - {Role.GRID_WORKER} | {Role.ADMIN}, "您无权导出企业清单"),
    "hazard.view": (_ALL, "您无权查看隐患"),
    "hazard.register": (_ENT | {Role.GRID_WORKER, Role.INSPECTOR, Role.REGULATOR}, "您的角色不能登记隐患"),
    "hazard.export": (_ALL - {Role.GRID_WORKER}, "您无权导出隐患台账"),
    "risk.view": (_ALL, "您无权查看风险清单"),
    "risk.manage": (_ENT, "风险清单由企业维护"),
    # Performing the periodic checks of control measures (隐患排查任务) of one's own enterprise.
    "risk.check": (_ENT, "排查任务由企业人员执行"),
    # The regulator's list of 重大/较大 (red/orange) risks across the jurisdiction.
    "risk.supervise": (_GOV, "只有监管人员可以查看辖区重大、较大风险清单"),
    "stats.view": (_ALL - {Role.GRID_WORKER}, "您无权查看隐患排查治理统计"),
    # 自查自报: an enterprise submits its period report of hidden dangers to its supervising agency.
    "hazard.self_report": (_ENT, "只有企业人员可以报送本企业的隐患自查情况"),
    "notification.view": (_ALL, "您无权查看通知"),
    "jurisdiction.view": (_GOV, "您无权查看辖区"),
    "jurisdiction.manage": (frozenset({Role.ADMIN}), "只有平台管理员可以维护辖区"),
    "agency.manage": (frozenset({Role.ADMIN}), "只有平台管理员可以维护执法机关"),
    "user.manage": (frozenset({Role.ADMIN}), "只有平台管理员可以管理用户"),
    "plugin.view": (frozenset({Role.ADMIN}), "只有平台管理员可以查看插件"),
    "catalog.view": (_ALL, "您无权查看判定标准和检查表"),
    "catalog.manage": (frozenset({Role.ADMIN}), "只有平台管理员可以同步或导入检查表"),
    "audit.view": (frozenset({Role.ADMIN}), "只有平台管理员可以查看审计日志"),
    # Checklist inspections (检查记录, R-P2): who may perform a run of each kind; scope decides on which enterprise.
    "inspection.view": (_ALL, "您无权查看检查记录"),
    "inspection.self_check": (_ENT, "企业自查由本企业人员进行"),
    "inspection.enforce": (frozenset({Role.INSPECTOR, Role.REGULATOR}), "只有执法人员可以进行执法检查"),
    "inspection.patrol": (frozenset({Role.GRID_WORKER}), "只有网格员可以进行网格巡查"),
    # 安全生产标准化 (R-S1…R-S4): enterprises assess themselves; the 主要负责人 signs; the supervising regulator
    # reviews and keeps the 达标 lifecycle; regulators and inspectors see coverage.
    "assessment.view": (_ALL - {Role.GRID_WORKER}, "您无权查看安全生产标准化自评"),
    "assessment.edit": (_ENT, "安全生产标准化自评由企业填报"),
    "assessment.submit": (frozenset({Role.ENTERPRISE_PRINCIPAL}), "自评报告须由企业主要负责人签字提交"),
    "assessment.review": (frozenset({Role.REGULATOR}), "只有监管部门可以审核安全生产标准化自评"),
    "standardization.manage": (frozenset({Role.REGULATOR}), "只有监管部门可以维护安全生产标准化达标状态"),
    "standardization.coverage": (_GOV - {Role.GRID_WORKER}, "您无权查看安全生产标准化覆盖情况"),
    # 执法文书 (R-E3…R-E5): issued by the agency's 执法人员 (signers need a valid 执法证); the enterprise receives.
    "document.view": (_ALL - {Role.GRID_WORKER}, "您无权查看执法文书"),
    "document.issue": (frozenset({Role.INSPECTOR, Role.REGULATOR}), "只有执法人员可以制作执法文书"),
    "document.receive": (_ENT, "只有被检查单位人员可以签收执法文书"),
    # 法制审核 (R-E5, 重大执法决定法制审核): done inside the issuing agency by its 监管人员 (the legal staff hold the
    # regulator role); never on one's own request. Types that need it: DOCUMENT_TYPES "legal_review" / plugins.
    "document.legal_review": (frozenset({Role.REGULATOR}), "只有本机关的法制审核人员（监管人员）可以进行法制审核"),
    # 执法计划、双随机抽查、专项行动 (R-E1, R-E2): seen by the agencies' staff; managed by the agency's regulators
    # (the service also requires the object to be of the actor's own agency). Enterprises see only the public list.
    "plan.view": (frozenset({Role.INSPECTOR, Role.REGULATOR, Role.ADMIN}), "您无权查看执法计划和双随机抽查"),
    "plan.manage": (frozenset({Role.REGULATOR}), "只有执法机关的监管人员可以制定计划、抽取双随机名单和组织专项行动"),
}


def can(actor: Actor, permission: str) -> bool:
    """True when one of the actor's roles holds ``permission``. Unknown permissions are a programming error."""
    roles, _ = PERMISSIONS[permission]
    return actor.has_role(*roles)


def require(actor: Actor, permission: str) -> None:
    """Raise :class:`PermissionDenied` with the permission's Chinese message unless :func:`can`."""
    roles, message = PERMISSIONS[permission]
    if not actor.has_role(*roles):
        raise PermissionDenied(message)
