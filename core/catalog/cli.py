"""``anjian catalog …``: store the plugins' rule sets and checklists; exchange checklists as XLSForm."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("catalog", help="判定标准与检查表（插件数据）")
def catalog_group() -> None:
    """Commands on the catalog."""


def echo_sync_report(report) -> None:
    for code, revision in report.rule_sets:
        click.echo(f"  新增判定标准 {code}" + (f"（第 {revision} 版内容）" if revision > 1 else ""))
    for code, version in report.checklists:
        click.echo(f"  新增检查表 {code} 版本 {version}")
    click.echo(f"判定标准/检查表入库：新增 {report.added} 项，未变 {report.unchanged} 项")


@catalog_group.command("sync")
@with_appcontext
def sync_command() -> None:
    """Store every rule set and checklist version the enabled plugins ship that is not stored yet."""
    from core.extensions import db
    from core.services.catalog import sync_catalog
    from core.services.errors import ServiceError

    try:
        report = sync_catalog(db.session)
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    echo_sync_report(report)


@catalog_group.command("import-xlsform")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--sector", required=True, help="检查表所属领域代码（如 hazchem）")
@with_appcontext
def import_xlsform_command(path: str, sector: str) -> None:
    """Import an XLSForm .xlsx as a NEW checklist version (an existing version is refused)."""
    from core.extensions import db
    from core.services.catalog import import_xlsform
    from core.services.errors import ServiceError, ValidationFailed

    with open(path, "rb") as fh:
        try:
            row = import_xlsform(db.session, fh.read(), sector=sector)
        except ValidationFailed as exc:
            db.session.rollback()
            raise click.ClickException("；".join(m for msgs in exc.errors.values() for m in msgs)) from None
        except ServiceError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"已导入检查表 {row.code} 版本 {row.version}（{len(row.items)} 条）")
