"""The Alembic migrations build exactly the models, on SQLite and on PostgreSQL (R-N2).

On a fresh, empty database: ``upgrade`` to head, then Alembic's autogenerate comparison between the migrated
database and ``core.models.Base.metadata`` (configured as Flask-Migrate configures it, plus server defaults)
must find nothing; ``downgrade`` to base must leave only ``alembic_version``; upgrading again must work.

The PostgreSQL variant runs when ``ANJIAN_TEST_DATABASE_URL`` is a PostgreSQL URL. It never touches the shared
test database: it creates a throw-away database next to it through an administrative connection (or, when the
role may not create databases, a throw-away schema in it) and drops it afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from core.app import create_app
from core.extensions import db
from core.models import Base
from tests.conftest import base_config

PG_URL = os.environ.get("ANJIAN_TEST_DATABASE_URL", "")
IS_PG = PG_URL.startswith("postgresql")


def _user_tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _compare_options(app) -> dict[str, Any]:
    """The options Flask-Migrate gives Alembic's autogenerate (compare_type …), plus server defaults."""
    configure_args = dict(app.extensions["migrate"].configure_args)
    assert configure_args.get("compare_type") is True, "Flask-Migrate must compare column types"
    return {**configure_args, "compare_server_default": True}


def check_migrations_match_models(url: str, engine_options: dict[str, Any] | None = None) -> None:
    app = create_app(base_config(url, SQLALCHEMY_ENGINE_OPTIONS=engine_options or {}))
    try:
        with app.app_context():
            engine = db.engine
            assert _user_tables(engine) == set(), "the database must start empty"

            upgrade()
            head = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()
            with engine.connect() as conn:
                assert MigrationContext.configure(conn).get_current_revision() == head
            assert _user_tables(engine) == set(Base.metadata.tables) | {"alembic_version"}

            options = _compare_options(app)
            with engine.connect() as conn:
                diffs = compare_metadata(MigrationContext.configure(conn, opts=options), Base.metadata)
                # Guard: the comparison does see the migrated tables (against an empty metadata all are extra).
                extra = compare_metadata(MigrationContext.configure(conn, opts=options), sa.MetaData())
            assert diffs == [], "migrations and models differ; run `anjian db migrate` and review:\n" + "\n".join(
                map(repr, diffs))
            assert {d[1].name for d in extra if d[0] == "remove_table"} == set(Base.metadata.tables)

            downgrade(revision="base")
            assert _user_tables(engine) == {"alembic_version"}
            with engine.connect() as conn:
                assert MigrationContext.configure(conn).get_current_revision() is None

            upgrade()  # and back up again: the downgrade left nothing behind that blocks a new upgrade
            assert _user_tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        with app.app_context():
            db.engine.dispose()


def test_sqlite_upgrade_equals_models_and_downgrade_is_clean(tmp_path):
    check_migrations_match_models(f"sqlite:///{tmp_path / 'migrations.db'}")


@pytest.fixture()
def fresh_pg() -> Iterator[tuple[str, dict[str, Any]]]:
    """(URL, engine options) of an empty PostgreSQL database or schema beside the shared test database."""
    base = sa.make_url(PG_URL)
    name = f"anjian_mig_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.ProgrammingError:  # no CREATEDB right: use a schema of its own in the test database
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
            try:
                yield base.render_as_string(hide_password=False), {
                    "connect_args": {"options": f"-csearch_path={name}"}}
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
            return
        try:
            yield base.set(database=name).render_as_string(hide_password=False), {}
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.mark.skipif(not IS_PG, reason="ANJIAN_TEST_DATABASE_URL is not a PostgreSQL URL")
def test_postgresql_upgrade_equals_models_and_downgrade_is_clean(fresh_pg):
    url, engine_options = fresh_pg
    assert url != PG_URL or engine_options, "must not run on the shared test database"
    check_migrations_match_models(url, engine_options)


def test_single_head_and_every_revision_has_a_downgrade(app):
    """Plugins with their own tables get their own branches later; the core line itself stays linear."""
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    assert len(script.get_heads()) == 1
    for rev in script.walk_revisions():
        assert callable(getattr(rev.module, "downgrade", None)), f"{rev.revision} has no downgrade()"
        assert rev.module.downgrade.__code__.co_code != (lambda: None).__code__.co_code, f"{rev.revision}: empty"
