"""kpi.zone: every KPI's own time zone (slots, calendar dates and "end of day" are in it)

KPIs created before this revision had no zone of their own: their slots followed whatever
--tz the viewer gave. They are migrated to 'UTC', the zone cron hosts run in and the one
kpictl's tests and examples use; `kpictl assign KEY --zone ZONE` sets the right one (logged
like any other change).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zone', sa.String(length=64), nullable=False,
                                      server_default='UTC'))


def downgrade() -> None:
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.drop_column('zone')
