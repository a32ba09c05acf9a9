"""indexes and summaries for city scale

Revision ID: 0011_performance
Revises: 0010_document_review
Create Date: 2026-11-23 13:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_performance'
down_revision = '0010_document_review'
branch_labels = None
depends_on = None


# Issue 8 (R-N1), measured on 1,000,000 hidden dangers (docs/performance.md):
# * ix_hazards_scope_path_state_level: the ledger's capped count with district + state + level filters becomes an
#   index-only scan (24 ms -> 5 ms);
# * ix_hazards_found_at, ix_hazards_closed_at: the statistics read a period's rows (found or closed in it, or
#   still open) through a BitmapOr instead of the whole ledger.


def upgrade():
    with op.batch_alter_table('hazards', schema=None) as batch_op:
        batch_op.create_index('ix_hazards_scope_path_state_level', ['scope_path', 'state', 'level'], unique=False,
                              postgresql_ops={'scope_path': 'varchar_pattern_ops'})
        batch_op.create_index('ix_hazards_found_at', ['found_at'], unique=False)
        batch_op.create_index('ix_hazards_closed_at', ['closed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('hazards', schema=None) as batch_op:
        batch_op.drop_index('ix_hazards_closed_at')
        batch_op.drop_index('ix_hazards_found_at')
        batch_op.drop_index('ix_hazards_scope_path_state_level')
