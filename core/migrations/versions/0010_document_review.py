"""document types from plugins, 法制审核 and 挂牌督办通知书

Revision ID: 0010_document_review
Revises: 0009_field_inspection
Create Date: 2026-11-23 13:20:00

Adds 法制审核 (``document_legal_reviews``, ``documents.legal_review_id``) and the signers of a document as rows
(``document_signers``, filled from the existing documents' ``signer_ids``) so that lists filter by inspector.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_document_review'
down_revision = '0009_field_inspection'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_legal_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False, comment='制作文书的执法机关'),
    sa.Column('enterprise_id', sa.Integer(), nullable=False, comment='文书对象单位'),
    sa.Column('scope_path', sa.String(length=255), nullable=False, comment='数据权限路径（企业的 scope_path）'),
    sa.Column('doc_type', sa.String(length=30), nullable=False, comment='文书种类'),
    sa.Column('request', sa.JSON(), nullable=False, comment='送审的文书内容（签发时据此制作）'),
    sa.Column('summary', sa.String(length=500), nullable=False, comment='送审摘要'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='状态：pending 待审核 / approved 通过 / returned 退回'),
    sa.Column('requested_by_id', sa.Integer(), nullable=False, comment='送审人'),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False, comment='送审时间'),
    sa.Column('decided_by_id', sa.Integer(), nullable=True, comment='审核人'),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True, comment='审核时间'),
    sa.Column('opinion', sa.Text(), nullable=True, comment='审核意见（退回的理由）'),
    sa.Column('version', sa.Integer(), nullable=False, comment='版本号（乐观锁）'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False, comment='创建时间'),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False, comment='更新时间'),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_document_legal_reviews_agency_id_agencies')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_document_legal_reviews_decided_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_document_legal_reviews_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_document_legal_reviews_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_legal_reviews')),
    comment='文书法制审核（重大执法决定法制审核）'
    )
    with op.batch_alter_table('document_legal_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_legal_reviews_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_legal_reviews_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_legal_reviews_status'), ['status'], unique=False)
        batch_op.create_index('ix_document_legal_reviews_scope_path', ['scope_path'], unique=False, postgresql_ops={'scope_path': 'varchar_pattern_ops'})

    op.create_table('document_signers',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False, comment='签名顺序'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_signers_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_document_signers_user_id_users')),
    sa.PrimaryKeyConstraint('document_id', 'user_id', name=op.f('pk_document_signers')),
    comment='文书签名执法人员（按执法人员筛选文书）'
    )
    with op.batch_alter_table('document_signers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_signers_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_review_id', sa.Integer(), nullable=True, comment='法制审核（经审核后签发的文书）'))
        batch_op.create_foreign_key(batch_op.f('fk_documents_legal_review_id_document_legal_reviews'), 'document_legal_reviews', ['legal_review_id'], ['id'])

    # The signers of documents issued before this revision, from their JSON list.
    conn = op.get_bind()
    documents = sa.table('documents', sa.column('id', sa.Integer), sa.column('signer_ids', sa.JSON))
    signers = sa.table('document_signers', sa.column('document_id', sa.Integer), sa.column('user_id', sa.Integer),
                       sa.column('position', sa.Integer))
    rows = []
    for doc_id, ids in conn.execute(sa.select(documents.c.id, documents.c.signer_ids)):
        for position, user_id in enumerate(dict.fromkeys(ids or []), start=1):
            rows.append({'document_id': doc_id, 'user_id': user_id, 'position': position})
    if rows:
        op.bulk_insert(signers, rows)


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_documents_legal_review_id_document_legal_reviews'), type_='foreignkey')
        batch_op.drop_column('legal_review_id')

    with op.batch_alter_table('document_signers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_signers_user_id'))

    op.drop_table('document_signers')
    with op.batch_alter_table('document_legal_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_document_legal_reviews_scope_path', postgresql_ops={'scope_path': 'varchar_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_document_legal_reviews_status'))
        batch_op.drop_index(batch_op.f('ix_document_legal_reviews_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_document_legal_reviews_agency_id'))

    op.drop_table('document_legal_reviews')
