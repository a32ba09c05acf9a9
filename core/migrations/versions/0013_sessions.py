"""sessions end, login throttling from the audit log

Revision ID: 0013_sessions
Revises: 0012_idempotency
Create Date: 2026-12-07 23:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_sessions'
down_revision = '0012_idempotency'
branch_labels = None
depends_on = None


# Issue 14 item 6: logout, a password change and an admin reset bump users.session_epoch, which every session and
# remember cookie carries (core.models.user.User.get_id). The per-account lockout (failed_logins, locked_until)
# let anyone lock a user out; login throttling now counts failures in the audit log per account and address
# (core/services/logins.py), which the new index serves.


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False,
                                      comment='会话代次（退出或改密后递增，旧会话失效）'))
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('locked_until')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_action_ip_at', ['action', 'ip', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_action_ip_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True, comment='锁定至'))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False,
                                      comment='连续登录失败次数'))
        batch_op.drop_column('session_epoch')
