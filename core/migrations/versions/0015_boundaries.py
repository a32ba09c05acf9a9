"""jurisdiction boundaries (GeoJSON) for 一张图

Revision ID: 0015_boundaries
Revises: 0014_uploads
Create Date: 2026-12-08 00:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_boundaries'
down_revision = '0014_uploads'
branch_labels = None
depends_on = None


# Issue 17 item 4: the map draws each jurisdiction's outline; JSON (not PostGIS) so SQLite and PostgreSQL both work.


def upgrade():
    with op.batch_alter_table('jurisdictions') as batch:
        batch.add_column(sa.Column('boundary', sa.JSON(), nullable=True,
                                   comment='辖区边界（GeoJSON Polygon/MultiPolygon，WGS-84）'))
        batch.add_column(sa.Column('boundary_schematic', sa.Boolean(), nullable=False, server_default=sa.false(),
                                   comment='边界为示意（非测绘成果）'))


def downgrade():
    with op.batch_alter_table('jurisdictions') as batch:
        batch.drop_column('boundary_schematic')
        batch.drop_column('boundary')
