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
    # Columns added in place: a batch rebuild of ``kpi`` on SQLite would drop the table under
    # the rows that refer to it (foreign keys are on, and ON DELETE CASCADE would fire), so
    # SQLite gets ALTER TABLE … ADD COLUMN with the foreign key inline.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE kpi ADD COLUMN parent_id INTEGER '
                   'CONSTRAINT fk_kpi_parent_id_kpi REFERENCES kpi (id)')
    else:
        op.add_column('kpi', sa.Column('parent_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_kpi_parent_id_kpi', 'kpi', 'kpi', ['parent_id'], ['id'])
    op.add_column('kpi', sa.Column('weight', sa.Float(), nullable=False, server_default='1'))
    op.create_index('ix_kpi_parent_id', 'kpi', ['parent_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_kpi_parent_id', table_name='kpi')
    if op.get_bind().dialect.name == 'sqlite':  # in place again (see upgrade)
        op.execute('ALTER TABLE kpi DROP COLUMN weight')
        op.execute('ALTER TABLE kpi DROP COLUMN parent_id')
    else:
        op.drop_constraint('fk_kpi_parent_id_kpi', 'kpi', type_='foreignkey')
        op.drop_column('kpi', 'weight')
        op.drop_column('kpi', 'parent_id')
