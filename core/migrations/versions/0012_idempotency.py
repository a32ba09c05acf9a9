"""idempotency keys

Revision ID: 0012_idempotency
Revises: 0011_performance
Create Date: 2026-12-07 20:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_idempotency'
down_revision = '0011_performance'
branch_labels = None
depends_on = None


# Issue 14 item 3: a double tap, a retry after a lost answer or two tabs never write twice (core/views/idempotency.py).


def upgrade():
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False, comment='提交人'),
        sa.Column('key', sa.String(length=64), nullable=False, comment='客户端生成的幂等键'),
        sa.Column('method', sa.String(length=8), nullable=False, comment='请求方法'),
        sa.Column('path', sa.String(length=500), nullable=False, comment='请求路径（含查询串）'),
        sa.Column('fingerprint', sa.String(length=64), nullable=False, comment='请求内容 SHA-256（同一键换了内容即拒绝）'),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='首次提交时间'),
        sa.Column('status_code', sa.Integer(), nullable=True, comment='当时的应答状态码'),
        sa.Column('location', sa.String(length=500), nullable=True, comment='当时应答的 Location'),
        sa.Column('content_type', sa.String(length=100), nullable=True, comment='当时应答的 Content-Type'),
        sa.Column('body', sa.Text(), nullable=True, comment='当时的应答正文（不超过上限时保存）'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
        sa.UniqueConstraint('user_id', 'key', name='uq_idempotency_keys_user_id_key'),
        comment='幂等键（防止重复提交）',
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))
    op.drop_table('idempotency_keys')
