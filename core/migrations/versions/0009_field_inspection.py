"""field inspection: GPS, signatures and the full-process record

Revision ID: 0009_field_inspection
Revises: 0008_plans
Create Date: 2026-11-23 13:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_field_inspection'
down_revision = '0008_plans'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inspection_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False, comment='检查记录'),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False, comment='时间'),
    sa.Column('actor_id', sa.Integer(), nullable=True, comment='操作人'),
    sa.Column('actor_name', sa.String(length=50), nullable=False, comment='操作人姓名'),
    sa.Column('action', sa.String(length=40), nullable=False, comment='步骤代码（见 field.EVENT_LABELS）'),
    sa.Column('detail', sa.JSON(), nullable=True, comment='步骤内容'),
    sa.Column('lat', sa.Float(), nullable=True, comment='位置纬度'),
    sa.Column('lng', sa.Float(), nullable=True, comment='位置经度'),
    sa.Column('accuracy_m', sa.Float(), nullable=True, comment='位置精度（米）'),
    sa.Column('gps_missing', sa.String(length=20), nullable=True, comment='未获取定位的原因代码'),
    sa.Column('attachment_shas', sa.JSON(), nullable=True, comment='证据文件（照片、签名、文书）SHA-256'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_inspection_events_actor_id_users')),
    sa.ForeignKeyConstraint(['run_id'], ['inspection_runs.id'], name=op.f('fk_inspection_events_run_id_inspection_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_events')),
    comment='执法全过程记录（检查的每一步）'
    )
    with op.batch_alter_table('inspection_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_events_run_id'), ['run_id'], unique=False)

    op.create_table('inspection_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False, comment='检查记录'),
    sa.Column('role', sa.String(length=20), nullable=False, comment='签名人身份：inspector 执法人员 / enterprise 现场负责人'),
    sa.Column('user_id', sa.Integer(), nullable=True, comment='签名的执法人员（用户）'),
    sa.Column('name', sa.String(length=50), nullable=False, comment='签名人姓名'),
    sa.Column('title', sa.String(length=50), nullable=True, comment='职务（现场负责人）'),
    sa.Column('cert_number', sa.String(length=40), nullable=True, comment='签名时的执法证号'),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False, comment='签名时间'),
    sa.Column('sha256', sa.String(length=64), nullable=False, comment='签名图片（PNG）的 SHA-256（附件存储）'),
    sa.Column('lat', sa.Float(), nullable=True, comment='签名位置纬度'),
    sa.Column('lng', sa.Float(), nullable=True, comment='签名位置经度'),
    sa.Column('accuracy_m', sa.Float(), nullable=True, comment='签名位置精度（米）'),
    sa.ForeignKeyConstraint(['run_id'], ['inspection_runs.id'], name=op.f('fk_inspection_signatures_run_id_inspection_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inspection_signatures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_signatures')),
    comment='检查记录的手写签名（执法人员、被检查单位现场负责人）'
    )
    with op.batch_alter_table('inspection_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_signatures_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('inspection_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_lat', sa.Float(), nullable=True, comment='开始位置纬度（WGS-84）'))
        batch_op.add_column(sa.Column('start_lng', sa.Float(), nullable=True, comment='开始位置经度（WGS-84）'))
        batch_op.add_column(sa.Column('start_accuracy_m', sa.Float(), nullable=True, comment='开始位置精度（米）'))
        batch_op.add_column(sa.Column('start_gps_missing', sa.String(length=20), nullable=True, comment='开始时未获取定位的原因代码'))
        batch_op.add_column(sa.Column('end_lat', sa.Float(), nullable=True, comment='结束位置纬度（WGS-84）'))
        batch_op.add_column(sa.Column('end_lng', sa.Float(), nullable=True, comment='结束位置经度（WGS-84）'))
        batch_op.add_column(sa.Column('end_accuracy_m', sa.Float(), nullable=True, comment='结束位置精度（米）'))
        batch_op.add_column(sa.Column('end_gps_missing', sa.String(length=20), nullable=True, comment='结束时未获取定位的原因代码'))
        batch_op.add_column(sa.Column('co_inspector_id', sa.Integer(), nullable=True, comment='第二名执法人员'))
        batch_op.add_column(sa.Column('place', sa.String(length=200), nullable=True, comment='检查场所'))
        batch_op.add_column(sa.Column('onsite_name', sa.String(length=50), nullable=True, comment='被检查单位现场负责人姓名'))
        batch_op.add_column(sa.Column('onsite_title', sa.String(length=50), nullable=True, comment='被检查单位现场负责人职务'))
        batch_op.create_index(batch_op.f('ix_inspection_runs_co_inspector_id'), ['co_inspector_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_inspection_runs_co_inspector_id_users'), 'users', ['co_inspector_id'], ['id'])


def downgrade():
    with op.batch_alter_table('inspection_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_inspection_runs_co_inspector_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_inspection_runs_co_inspector_id'))
        batch_op.drop_column('onsite_title')
        batch_op.drop_column('onsite_name')
        batch_op.drop_column('place')
        batch_op.drop_column('co_inspector_id')
        batch_op.drop_column('end_gps_missing')
        batch_op.drop_column('end_accuracy_m')
        batch_op.drop_column('end_lng')
        batch_op.drop_column('end_lat')
        batch_op.drop_column('start_gps_missing')
        batch_op.drop_column('start_accuracy_m')
        batch_op.drop_column('start_lng')
        batch_op.drop_column('start_lat')

    with op.batch_alter_table('inspection_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_signatures_run_id'))

    op.drop_table('inspection_signatures')
    with op.batch_alter_table('inspection_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_events_run_id'))

    op.drop_table('inspection_events')
