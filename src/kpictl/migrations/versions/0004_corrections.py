"""corrections: amended/retracted check-ins, person changes, reasons, and what was known when

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:00:00
"""

from alembic import op
import sqlalchemy as sa
import kpictl.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkin_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('recorded_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('measured_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('blocker', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['person.id'], name=op.f('fk_checkin_correction_by_id_person')),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkin.id'], name=op.f('fk_checkin_correction_checkin_id_checkin')),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_checkin_correction_kpi_id_kpi')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_correction'))
    )
    op.create_index(op.f('ix_checkin_correction_checkin_id'), 'checkin_correction', ['checkin_id'], unique=False)
    op.create_index(op.f('ix_checkin_correction_kpi_id'), 'checkin_correction', ['kpi_id'], unique=False)
    op.create_table('person_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['person.id'], name=op.f('fk_person_change_by_id_person')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_change_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_change'))
    )
    op.create_index(op.f('ix_person_change_person_id'), 'person_change', ['person_id'], unique=False)
    with op.batch_alter_table('kpi_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
    with op.batch_alter_table('checkin_stats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_last', kpictl.db.UTCDateTime(), nullable=True))
    # The newest recording per KPI, for the rows the aggregates already hold.
    op.execute("UPDATE checkin_stats SET recorded_last = (SELECT max(recorded_at) FROM checkin "
               "WHERE checkin.kpi_id = checkin_stats.kpi_id)")


def downgrade() -> None:
    with op.batch_alter_table('checkin_stats', schema=None) as batch_op:
        batch_op.drop_column('recorded_last')
    with op.batch_alter_table('kpi_change', schema=None) as batch_op:
        batch_op.drop_column('reason')
    op.drop_index(op.f('ix_person_change_person_id'), table_name='person_change')
    op.drop_table('person_change')
    op.drop_index(op.f('ix_checkin_correction_kpi_id'), table_name='checkin_correction')
    op.drop_index(op.f('ix_checkin_correction_checkin_id'), table_name='checkin_correction')
    op.drop_table('checkin_correction')
