"""sources and pull: the source_run log, and check-in sources long enough for "pull:<kpi>"

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 06:10:00
"""

from alembic import op
import sqlalchemy as sa
import kpictl.db


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('source_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_source_run_kpi_id_kpi'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_run'))
    )
    with op.batch_alter_table('source_run', schema=None) as batch_op:
        batch_op.create_index('ix_source_run_kpi_at', ['kpi_id', 'at'], unique=False)
    # PostgreSQL enforces the length (widening a varchar rewrites nothing there); SQLite
    # does not, but its declared type is kept equal to models.py (batch mode copies the table).
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.alter_column('source', existing_type=sa.String(length=32),
                              type_=sa.String(length=120), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.alter_column('source', existing_type=sa.String(length=120),
                              type_=sa.String(length=32), existing_nullable=False)
    op.drop_table('source_run')
