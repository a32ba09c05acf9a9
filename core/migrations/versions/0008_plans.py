"""inspection plans, 双随机 draws and special campaigns

Revision ID: 0008_plans
Revises: 0007_documents
Create Date: 2026-11-23 13:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_plans'
down_revision = '0007_documents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False, comment='组织机关'),
    sa.Column('scope_path', sa.String(length=255), nullable=False, comment='数据权限路径（机关辖区的物化路径）'),
    sa.Column('name', sa.String(length=200), nullable=False, comment='行动名称'),
    sa.Column('kind', sa.String(length=20), nullable=False, comment='类型：节假日/汛期/大排查大整治/三年行动/其他'),
    sa.Column('sectors', sa.JSON(), nullable=False, comment='涉及领域（插件代码；空为全部）'),
    sa.Column('jurisdiction_ids', sa.JSON(), nullable=False, comment='涉及辖区（空为机关全辖区）'),
    sa.Column('starts_on', sa.Date(), nullable=False, comment='开始日期'),
    sa.Column('ends_on', sa.Date(), nullable=False, comment='结束日期'),
    sa.Column('checklist_codes', sa.JSON(), nullable=False, comment='采用的检查表代码'),
    sa.Column('description', sa.Text(), nullable=True, comment='行动内容与要求'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='状态：筹备中/进行中/已结束'),
    sa.Column('created_by_id', sa.Integer(), nullable=True, comment='创建人'),
    sa.Column('version', sa.Integer(), nullable=False, comment='版本号（乐观锁）'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False, comment='创建时间'),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False, comment='更新时间'),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_campaigns_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_campaigns_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    comment='专项行动'
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_campaigns_scope_path', ['scope_path'], unique=False, postgresql_ops={'scope_path': 'varchar_pattern_ops'})

    op.create_table('inspection_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False, comment='执法机关'),
    sa.Column('scope_path', sa.String(length=255), nullable=False, comment='数据权限路径（机关辖区的物化路径）'),
    sa.Column('year', sa.Integer(), nullable=False, comment='计划年度'),
    sa.Column('title', sa.String(length=200), nullable=False, comment='计划名称'),
    sa.Column('targets', sa.JSON(), nullable=False, comment='目标检查家次：total 合计、sectors 按领域、classes 按企业类别、levels 按监管层级'),
    sa.Column('note', sa.Text(), nullable=True, comment='说明（重点、方式、保障）'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='状态：草稿/已批准'),
    sa.Column('approved_by_id', sa.Integer(), nullable=True, comment='批准人'),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True, comment='批准时间'),
    sa.Column('created_by_id', sa.Integer(), nullable=True, comment='制定人'),
    sa.Column('version', sa.Integer(), nullable=False, comment='版本号（乐观锁）'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False, comment='创建时间'),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False, comment='更新时间'),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_inspection_plans_agency_id_agencies')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_inspection_plans_approved_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_inspection_plans_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_plans')),
    sa.UniqueConstraint('agency_id', 'year', name='uq_inspection_plans_agency_id_year'),
    comment='年度执法计划'
    )
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_plans_scope_path', ['scope_path'], unique=False, postgresql_ops={'scope_path': 'varchar_pattern_ops'})

    op.create_table('inspection_draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False, comment='执法机关'),
    sa.Column('plan_id', sa.Integer(), nullable=True, comment='所属年度计划'),
    sa.Column('scope_path', sa.String(length=255), nullable=False, comment='数据权限路径（机关辖区的物化路径）'),
    sa.Column('title', sa.String(length=200), nullable=False, comment='名称，如 2026年11月双随机抽查'),
    sa.Column('period_start', sa.Date(), nullable=False, comment='检查期间起'),
    sa.Column('period_end', sa.Date(), nullable=False, comment='检查期间止'),
    sa.Column('requested_count', sa.Integer(), nullable=False, comment='抽取企业数'),
    sa.Column('filters', sa.JSON(), nullable=False, comment='抽取范围条件（领域、类别、监管层级）'),
    sa.Column('seed', sa.String(length=64), nullable=False, comment='随机种子（文本）'),
    sa.Column('algorithm', sa.String(length=60), nullable=False, comment='抽取算法及版本'),
    sa.Column('inputs', sa.JSON(), nullable=False, comment='抽取的全部输入：候选企业（顺序、权重、风险类别）、持证执法人员、算法；据此可复算'),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True, comment='抽取人'),
    sa.Column('drawn_by_name', sa.String(length=50), nullable=False, comment='抽取人姓名'),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False, comment='抽取时间'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='状态：待公布/已公布/已作废'),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True, comment='公布时间'),
    sa.Column('published_by_id', sa.Integer(), nullable=True, comment='公布人'),
    sa.Column('public_token', sa.String(length=32), nullable=True, comment='公示页地址令牌'),
    sa.Column('version', sa.Integer(), nullable=False, comment='版本号（乐观锁）'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False, comment='创建时间'),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False, comment='更新时间'),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_inspection_draws_agency_id_agencies')),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['users.id'], name=op.f('fk_inspection_draws_drawn_by_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], name=op.f('fk_inspection_draws_plan_id_inspection_plans')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_inspection_draws_published_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_draws')),
    sa.UniqueConstraint('public_token', name=op.f('uq_inspection_draws_public_token')),
    comment='双随机抽查（抽取记录与公示）'
    )
    with op.batch_alter_table('inspection_draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_draws_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_draws_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index('ix_inspection_draws_scope_path', ['scope_path'], unique=False, postgresql_ops={'scope_path': 'varchar_pattern_ops'})

    op.create_table('inspection_draw_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False, comment='抽查'),
    sa.Column('position', sa.Integer(), nullable=False, comment='抽中顺序（从 1 起）'),
    sa.Column('enterprise_id', sa.Integer(), nullable=False, comment='抽中企业'),
    sa.Column('inspector1_id', sa.Integer(), nullable=False, comment='执法人员一'),
    sa.Column('inspector2_id', sa.Integer(), nullable=False, comment='执法人员二'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='状态：待检查/已检查'),
    sa.Column('inspection_run_id', sa.Integer(), nullable=True, comment='对应检查记录'),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True, comment='关联检查记录的时间'),
    sa.ForeignKeyConstraint(['draw_id'], ['inspection_draws.id'], name=op.f('fk_inspection_draw_items_draw_id_inspection_draws'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_inspection_draw_items_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['inspection_run_id'], ['inspection_runs.id'], name=op.f('fk_inspection_draw_items_inspection_run_id_inspection_runs')),
    sa.ForeignKeyConstraint(['inspector1_id'], ['users.id'], name=op.f('fk_inspection_draw_items_inspector1_id_users')),
    sa.ForeignKeyConstraint(['inspector2_id'], ['users.id'], name=op.f('fk_inspection_draw_items_inspector2_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_draw_items')),
    sa.UniqueConstraint('draw_id', 'enterprise_id', name='uq_inspection_draw_items_draw_id_enterprise_id'),
    sa.UniqueConstraint('draw_id', 'position', name='uq_inspection_draw_items_draw_id_position'),
    comment='双随机抽查名单（企业与两名执法人员）'
    )
    with op.batch_alter_table('inspection_draw_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_draw_items_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_draw_items_inspector1_id'), ['inspector1_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_draw_items_inspector2_id'), ['inspector2_id'], unique=False)


def downgrade():
    with op.batch_alter_table('inspection_draw_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_draw_items_inspector2_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_draw_items_inspector1_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_draw_items_enterprise_id'))

    op.drop_table('inspection_draw_items')
    with op.batch_alter_table('inspection_draws', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_draws_scope_path', postgresql_ops={'scope_path': 'varchar_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_inspection_draws_plan_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_draws_agency_id'))

    op.drop_table('inspection_draws')
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_plans_scope_path', postgresql_ops={'scope_path': 'varchar_pattern_ops'})

    op.drop_table('inspection_plans')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_campaigns_scope_path', postgresql_ops={'scope_path': 'varchar_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_campaigns_agency_id'))

    op.drop_table('campaigns')
    # ### end Alembic commands ###
