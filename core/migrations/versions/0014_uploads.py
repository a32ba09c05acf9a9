"""attachment meta (photo GPS kept as data)

Revision ID: 0014_uploads
Revises: 0013_sessions
Create Date: 2026-12-07 23:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_uploads'
down_revision = '0013_sessions'
branch_labels = None
depends_on = None


# Issue 14 item 6: uploaded photos are re-encoded without metadata; the EXIF GPS position is kept here as data.


def upgrade():
    with op.batch_alter_table('attachments') as batch:
        batch.add_column(sa.Column('meta', sa.JSON(), nullable=True, comment='文件自带信息（如照片 GPS 坐标）'))


def downgrade():
    with op.batch_alter_table('attachments') as batch:
        batch.drop_column('meta')
