"""ongoing KPIs: kpi.every and kpi.aggregate, and per-period targets (period_target)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 21:45:00
"""

from alembic import op
import sqlalchemy as sa
import kpictl.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.add_column(sa.Column('every', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('aggregate', sa.String(length=8), nullable=True))

    op.create_table('period_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_period_target_kpi_id_kpi'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['by_id'], ['person.id'], name=op.f('fk_period_target_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_target'))
    )
    with op.batch_alter_table('period_target', schema=None) as batch_op:
        batch_op.create_index('ix_period_target_kpi_period', ['kpi_id', 'period'], unique=False)


def downgrade() -> None:
    op.drop_table('period_target')
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.drop_column('aggregate')
        batch_op.drop_column('every')
