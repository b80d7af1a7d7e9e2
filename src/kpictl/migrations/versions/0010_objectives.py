"""objectives and roll-ups: kpi.parent_id and kpi.weight (issue 21)

An objective is a ``kpi`` row of kind ``objective``; any KPI or objective may sit under one
(``parent_id``) with a ``weight`` in its parent's weighted mean (default 1).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 06:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('weight', sa.Float(), nullable=False,
                                      server_default='1'))
        batch_op.create_foreign_key(batch_op.f('fk_kpi_parent_id_kpi'), 'kpi', ['parent_id'],
                                    ['id'])
        batch_op.create_index(batch_op.f('ix_kpi_parent_id'), ['parent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_parent_id'))
        batch_op.drop_constraint(batch_op.f('fk_kpi_parent_id_kpi'), type_='foreignkey')
        batch_op.drop_column('weight')
        batch_op.drop_column('parent_id')
