"""per-KPI check-in aggregates (checkin_stats), filled from the existing check-ins

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 20:00:00
"""

from alembic import op
import sqlalchemy as sa
import kpictl.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkin_stats',
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('first_at', kpictl.db.UTCDateTime(), nullable=True),
    sa.Column('last_at', kpictl.db.UTCDateTime(), nullable=True),
    sa.Column('in_window', sa.Integer(), nullable=False),
    sa.Column('met', sa.Integer(), nullable=False),
    sa.Column('fit_n', sa.Integer(), nullable=False),
    sa.Column('fit_distinct', sa.Integer(), nullable=False),
    sa.Column('sx', sa.Float(), nullable=False),
    sa.Column('sy', sa.Float(), nullable=False),
    sa.Column('sxx', sa.Float(), nullable=False),
    sa.Column('sxy', sa.Float(), nullable=False),
    sa.Column('syy', sa.Float(), nullable=False),
    sa.Column('covered_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_checkin_stats_kpi_id_kpi'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kpi_id', name=op.f('pk_checkin_stats'))
    )
    # Left empty: revision 0011 reshapes the table and fills it from the check-ins (this
    # revision's shape is gone from services/stats.py).


def downgrade() -> None:
    op.drop_table('checkin_stats')
