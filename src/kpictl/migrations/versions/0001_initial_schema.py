"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 23:14:39.846397
"""

from alembic import op
import sqlalchemy as sa
import kpictl.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handle', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['manager_id'], ['person.id'], name=op.f('fk_person_manager_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('handle', name=op.f('uq_person_handle'))
    )
    op.create_table('kpi',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('baseline', sa.Float(), nullable=True),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('start', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('due', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('cadence', sa.String(length=16), nullable=False),
    sa.Column('grace', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('delegated_by_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('closed_at', kpictl.db.UTCDateTime(), nullable=True),
    sa.Column('close_note', sa.Text(), nullable=True),
    sa.Column('created_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delegated_by_id'], ['person.id'], name=op.f('fk_kpi_delegated_by_id_person')),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_kpi_owner_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi')),
    sa.UniqueConstraint('key', name=op.f('uq_kpi_key'))
    )
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_owner_id'), ['owner_id'], unique=False)

    op.create_table('person_skill',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('skill', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_skill_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'skill', name=op.f('pk_person_skill'))
    )
    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('valid_until', kpictl.db.UTCDateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['person.id'], name=op.f('fk_assignment_assigned_by_id_person')),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_assignment_kpi_id_kpi')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_assignment_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_kpi_id'), ['kpi_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_person_id'), ['person_id'], unique=False)

    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('measured_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('blocker', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('idem_key', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_checkin_author_id_person')),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_checkin_kpi_id_kpi')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin')),
    sa.UniqueConstraint('kpi_id', 'idem_key', name=op.f('uq_checkin_kpi_id_idem_key'))
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_kpi_measured', ['kpi_id', 'measured_at'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_feedback_author_id_person')),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_feedback_kpi_id_kpi')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_kpi_id'), ['kpi_id'], unique=False)

    op.create_table('kpi_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['person.id'], name=op.f('fk_kpi_change_by_id_person')),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_kpi_change_kpi_id_kpi')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_change'))
    )
    with op.batch_alter_table('kpi_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_change_kpi_id'), ['kpi_id'], unique=False)

    op.create_table('kpi_tag',
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_kpi_tag_kpi_id_kpi'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kpi_id', 'tag', name=op.f('pk_kpi_tag'))
    )
    with op.batch_alter_table('kpi_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_tag_tag'), ['tag'], unique=False)

    op.create_table('milestone',
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('at', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_milestone_kpi_id_kpi'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kpi_id', 'at', name=op.f('pk_milestone'))
    )


def downgrade() -> None:
    op.drop_table('milestone')
    with op.batch_alter_table('kpi_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_tag_tag'))

    op.drop_table('kpi_tag')
    with op.batch_alter_table('kpi_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_change_kpi_id'))

    op.drop_table('kpi_change')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_kpi_id'))

    op.drop_table('feedback')
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_kpi_measured')

    op.drop_table('checkin')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_person_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_kpi_id'))

    op.drop_table('assignment')
    op.drop_table('person_skill')
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_owner_id'))

    op.drop_table('kpi')
    op.drop_table('person')
