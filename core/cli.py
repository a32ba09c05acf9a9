"""The ``anjian`` command: Flask's CLI over :func:`create_app` plus admin commands (same services as the UI)."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext


def _create_app() -> Flask:
    from core.app import create_app

    # A command needs no secret key (only serving does), so `anjian --help`, `anjian plugins` and `anjian version`
    # work on a machine that is not configured yet (issue 14 item 5).
    return create_app({"SECRET_KEY_REQUIRED": False})


class AnjianGroup(FlaskGroup):
    """Flask's command group whose configuration and database errors are one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import OperationalError

        from core.config import ConfigError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(f"配置错误 / configuration error: {exc}") from None
        except OperationalError as exc:
            raise click.ClickException(
                f"数据库不可用 / database unavailable: {str(exc.orig).strip().splitlines()[0]}"
                " (ANJIAN_DATABASE_URL; `anjian db upgrade` creates the tables)") from None


@click.group(cls=AnjianGroup, create_app=_create_app, help="anjian 安监平台管理命令")
def main() -> None:
    """The ``anjian`` console script. Flask's own commands (run, routes, shell, db …) plus the app's commands,
    which :func:`register_commands` adds to ``app.cli`` so that ``flask --app core.app`` and tests see them too."""


@click.command("plugins")
@with_appcontext
def plugins_command() -> None:
    """List the loaded plugins with their versions and sectors."""
    for name, version, info in current_app.extensions["anjian"].plugin_rows():
        click.echo(f"{name:16} {version:10} {info.name if info else ''}")


@click.command("version")
@with_appcontext
def version_command() -> None:
    """Print the version of anjian and of each loaded plugin (needs neither a secret key nor a database)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("anjian")
    except PackageNotFoundError:  # running from a checkout that is not installed
        own = "unknown"
    click.echo(f"anjian {own}")
    for name, plugin_version, _info in current_app.extensions["anjian"].plugin_rows():
        click.echo(f"  {name} {plugin_version}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo city (idempotent) and print the demo logins."""
    from core.demo import DEMO_PASSWORD, seed_demo
    from core.extensions import db

    result = seed_demo(db.session)
    db.session.commit()
    click.echo(f"演示数据：辖区 {result.jurisdictions} 个，执法机关 {result.agencies} 个，企业 {result.enterprises} 家"
               f"（本次新增 {result.created_enterprises} 家）")
    if result.hazards_by_state:
        from core.models.hazard import HazardState

        counts = "，".join(f"{HazardState(s).label} {n}" for s, n in sorted(result.hazards_by_state.items()))
        click.echo(f"演示隐患 {sum(result.hazards_by_state.values())} 条：{counts}")
    if result.assessments:
        click.echo(f"标准化自评 {result.assessments} 份（演示企业去年已通过、今年填报中）")
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for username, label in result.logins:
        click.echo(f"  {username:14} {label}")


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--jurisdiction-id", type=int)
@click.option("--enterprise-id", type=int)
@click.option("--agency-id", type=int)
@click.password_option()
@with_appcontext
def create_user_command(username, display_name, roles, jurisdiction_id, enterprise_id, agency_id, password) -> None:
    """Create a user (e.g. the first admin: --role admin)."""
    from marshmallow import ValidationError

    from core.extensions import db
    from core.schemas.user import UserIn
    from core.services.actors import SYSTEM
    from core.services.errors import ValidationFailed
    from core.services.users import save_user

    try:
        data = UserIn().load({"username": username, "display_name": display_name, "roles": list(roles),
                              "password": password, "jurisdiction_id": jurisdiction_id,
                              "enterprise_id": enterprise_id, "agency_id": agency_id})
        user = save_user(db.session, SYSTEM, data)
    except ValidationError as exc:
        raise click.ClickException(str(exc.messages)) from None
    except ValidationFailed as exc:
        raise click.ClickException(str(exc.errors)) from None
    db.session.commit()
    click.echo(f"已创建用户 {user.username}（id {user.id}）")


@click.command("import-enterprises")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_enterprises_command(path: str) -> None:
    """Import enterprises from an .xlsx or .csv file in the template format (all or nothing)."""
    from werkzeug.datastructures import FileStorage

    from core.extensions import db
    from core.services.actors import SYSTEM
    from core.services.errors import ValidationFailed
    from core.services.importexport import import_enterprises

    with open(path, "rb") as fh:
        try:
            report = import_enterprises(db.session, SYSTEM, FileStorage(fh, filename=path))
        except ValidationFailed as exc:  # the file as a whole is unusable (type, encoding, empty, too big)
            db.session.rollback()
            raise click.ClickException("；".join(m for msgs in exc.errors.values() for m in msgs)) from None
    if not report.ok:
        db.session.rollback()
        for err in report.errors:
            click.echo(f"第 {err.row} 行 [{err.column}] {err.message}", err=True)
        raise click.ClickException(f"{len(report.errors)} 处错误，未导入任何数据")
    db.session.commit()
    click.echo(f"导入成功：新增 {report.created} 家，更新 {report.updated} 家")


@click.command("reminders")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="按哪一天运行（YYYY-MM-DD，默认今天，北京时间）")
@with_appcontext
def reminders_command(on) -> None:
    """Send the day's deadline reminders, overdue escalations, 挂牌督办 and inspection-task notices (cron, daily;
    running it twice a day creates nothing new)."""
    from core.extensions import db
    from core.services.reminders import TIER_LABELS, TIERS, run_reminders

    report = run_reminders(db.session, on.date() if on else None)
    db.session.commit()
    click.echo(f"提醒任务（{report.on.isoformat()}）：新建通知 {report.created} 条")
    click.echo(f"  整改期限提醒 {report.reminders} 条，逾期通知（企业）{report.overdue} 条，"
               f"逾期督促（监管部门）{report.escalations} 条")
    click.echo(f"  挂牌督办期限提醒 {report.supervision_reminders} 条，挂牌督办逾期 {report.supervision_overdue} 条，"
               f"排查任务提醒 {report.task_reminders} 条")
    if report.by_tier:
        click.echo("  逾期隐患督促层级：" + "，".join(
            f"{TIER_LABELS[t]}级 {n} 项" for t, n in sorted(report.by_tier.items(), key=lambda kv: TIERS.index(kv[0]))))
    click.echo(f"  证照/检验到期提醒 {report.dated_reminders} 条，证照/检验已到期 {report.dated_overdue} 条")
    click.echo(f"  此前已发送（跳过）{report.already_sent} 条，无接收人 {report.unrouted} 项")


@click.command("bench-data")
@click.option("--enterprises", default=50_000, show_default=True, help="企业数")
@click.option("--hazards", default=1_000_000, show_default=True, help="隐患数")
@click.option("--risk-points", default=20_000, show_default=True, help="风险点数")
@click.option("--inspections", default=30_000, show_default=True, help="检查记录数")
@click.option("--documents", default=60_000, show_default=True, help="执法文书数（仅数据行，不生成 PDF）")
@click.option("--seed", default=1, show_default=True, help="随机种子（相同种子、规模和基准日得到相同数据）")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="基准日（默认今天）")
@click.option("--force", is_flag=True, help="数据库中已有数据时仍然追加生成")
@with_appcontext
def bench_data_command(enterprises, hazards, risk_points, inspections, documents, seed, today, force) -> None:
    """Fill the database with a realistic city for the benchmark (R-N1; docs/performance.md)."""
    from core.benchdata import BenchDataRefused, Sizes, generate
    from core.extensions import db

    sizes = Sizes(enterprises=enterprises, hazards=hazards, risk_points=risk_points, inspections=inspections,
                  documents=documents)
    click.echo(f"生成基准数据（种子 {seed}，{db.engine.dialect.name}）：")
    try:
        report = generate(db.session, sizes, seed=seed, today=today.date() if today else None, force=force,
                          echo=click.echo)
    except BenchDataRefused as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if db.engine.dialect.name == "postgresql" and not current_app.testing:
        # Statistics for the planner and the visibility map for index-only scans, as autovacuum would leave them.
        # (Not in tests: they run inside one rolled-back transaction, which a VACUUM would wait for.)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    counts = "，".join(f"{name} {n:,}" for name, n in report.counts.items())
    click.echo(f"完成：{counts}")
    click.echo(f"用时 {report.total_seconds:.1f} s（基准用户 bench_admin、bench_city、bench_reg1…6，"
               f"密码见 core/benchdata.py BENCH_PASSWORD）")


@click.group("documents", help="执法文书：条款版本、执法机关配置检查")
def documents_group() -> None:
    """Commands about enforcement documents."""


@documents_group.command("editions")
def document_editions_command() -> None:
    """List the dated editions of the clauses that depend on the law in force (待核对 = no verified text)."""
    from core.services.document_texts import EDITIONS

    for e in EDITIONS:
        span = f"{e.effective_from or '…'} – {e.effective_to or '…'}"
        click.echo(f"{e.clause:8} {e.code:6} {span:26} {'已核对' if e.verified else '待核对'}  {e.source}")


@documents_group.command("check-agencies")
@with_appcontext
def check_agencies_command() -> None:
    """List the agencies whose documents would print a blank or a wrong 复议机关 or court; exit 1 if any."""
    from sqlalchemy import select

    from core.extensions import db
    from core.models import Agency
    from core.services.document_texts import agency_problems

    bad = 0
    for agency in db.session.scalars(select(Agency).order_by(Agency.id)):
        for field, messages in agency_problems(agency.people_government, agency.court).items():
            bad += 1
            click.echo(f"{agency.id:5} {agency.name}  {field}: {'；'.join(messages)}")
    if bad:
        raise click.exceptions.Exit(1)
    click.echo("全部执法机关的复议机关与管辖法院配置有效")


@click.group("reports", help="报表：执法情况月度汇总、隐患排查治理统计（供 cron 定时生成）")
def reports_group() -> None:
    """Reports written to files, for cron."""


@reports_group.command("enforcement")
@click.option("--month", help="月份，如 2026-11（默认上一个月）")
@click.option("--node", "node_id", type=int, help="辖区编号（默认全部）")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True, help="输出 .xlsx 文件")
@with_appcontext
def enforcement_report_command(month: str | None, node_id: int | None, out: str) -> None:
    """Write the month's enforcement summary (checks by agency and inspector, documents by type) as Excel."""
    from core.extensions import db
    from core.services import enforcement_report, stats
    from core.services.actors import SYSTEM
    from core.services.errors import ServiceError
    from core.services.hazards import today

    try:
        chosen = stats.parse_period(month) if month else stats.Month.of(today()).previous()
        if not isinstance(chosen, stats.Month):
            raise click.BadParameter("月份应为“2026-11”的形式", param_hint="--month")
        summary = enforcement_report.enforcement_summary(db.session, SYSTEM, chosen, node_id)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    area = summary.node.name if summary.node else "全部辖区"
    with open(out, "wb") as fh:
        fh.write(enforcement_report.workbook(summary, f"{area}执法情况汇总"))
    click.echo(f"已生成 {out}：{area} {chosen.label}，检查 {summary.total.checks} 次，文书 "
               f"{sum(n for _, n in summary.documents)} 份")


@click.group("jurisdictions", help="辖区：边界导入")
def jurisdictions_group() -> None:
    """Jurisdiction tree commands."""


@jurisdictions_group.command("import-boundaries")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--schematic", is_flag=True, help="标记为示意边界（非测绘成果），地图上注明「示意边界」")
@with_appcontext
def import_boundaries_command(path: str, schematic: bool) -> None:
    """Set jurisdiction boundaries from a GeoJSON FeatureCollection (features matched by property code or name;
    all or nothing when a matched geometry is invalid)."""
    from core.extensions import db
    from core.services.actors import SYSTEM
    from core.services.boundaries import import_boundaries
    from core.services.errors import ValidationFailed

    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        report = import_boundaries(db.session, SYSTEM, raw, schematic=schematic)
    except ValidationFailed as exc:
        db.session.rollback()
        raise click.ClickException("；".join(m for msgs in exc.errors.values() for m in msgs)) from None
    for label, node in report.matched:
        click.echo(f"匹配：{label} → {node.name}（id {node.id}）")
    for label in report.unmatched:
        click.echo(f"未匹配：{label}")
    if not report.ok:
        db.session.rollback()
        for label, message in report.invalid:
            click.echo(f"无效：{label}：{message}", err=True)
        raise click.ClickException(f"{len(report.invalid)} 个边界无效，未导入任何边界")
    db.session.commit()
    click.echo(f"已导入 {len(report.matched)} 个辖区边界，{len(report.unmatched)} 个要素未匹配")


def register_commands(app: Flask) -> None:
    for command in (plugins_command, version_command, seed_demo_command, create_user_command, import_enterprises_command,
                    reminders_command, bench_data_command, documents_group, reports_group, jurisdictions_group):
        app.cli.add_command(command)
    from core.catalog.cli import catalog_group

    app.cli.add_command(catalog_group)
