"""away windows (people away) and the log of nudges sent (kpictl nudge)

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02 06:30:00
"""

from alembic import op
import sqlalchemy as sa
import kpictl.db


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('away',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('starts', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('ends', kpictl.db.UTCDateTime(), nullable=False),
    sa.Column('cover_id', sa.Integer(), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_away_person_id_person')),
    sa.ForeignKeyConstraint(['cover_id'], ['person.id'], name=op.f('fk_away_cover_id_person')),
    sa.ForeignKeyConstraint(['by_id'], ['person.id'], name=op.f('fk_away_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_away'))
    )
    with op.batch_alter_table('away', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_away_person_id'), ['person_id'], unique=False)

    op.create_table('nudge_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('sent_at', kpictl.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['person.id'], name=op.f('fk_nudge_sent_recipient_id_person')),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_nudge_sent_kpi_id_kpi'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nudge_sent')),
    sa.UniqueConstraint('recipient_id', 'type', 'kpi_id', 'slot', 'level', name=op.f('uq_nudge_sent_recipient_id_type_kpi_id_slot_level'))
    )
    with op.batch_alter_table('nudge_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nudge_sent_kpi_id'), ['kpi_id'], unique=False)


def downgrade() -> None:
    op.drop_table('nudge_sent')
    op.drop_table('away')
