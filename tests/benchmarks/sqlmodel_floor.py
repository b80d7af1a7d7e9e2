"""The single-checkin floor: a minimal SQLModel script that opens the file and inserts one row.

Usage: python sqlmodel_floor.py DB_PATH KPI_ID AUTHOR_ID [TABLE]
The model has the same columns as kpictl's ``checkin`` table; the table already exists.
DB_PATH may be a ``postgresql://`` URL (psycopg), with TABLE the copy of ``checkin`` made by
``floors_pg.py floor-table``.
"""

import sys
from datetime import UTC, datetime

from sqlmodel import Field, Session, SQLModel, create_engine


class Checkin(SQLModel, table=True):
    __tablename__ = sys.argv[4] if len(sys.argv) > 4 else "checkin"

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int
    value: float
    measured_at: datetime
    recorded_at: datetime
    author_id: int | None = None
    confidence: int | None = None
    note: str | None = None
    blocker: str | None = None
    source: str = "cli"
    idem_key: str | None = None


target = sys.argv[1]
if "://" in target:
    engine = create_engine(target.replace("postgresql://", "postgresql+psycopg://", 1))
else:
    engine = create_engine(f"sqlite:///{target}")
with Session(engine) as session:
    now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    session.add(Checkin(kpi_id=int(sys.argv[2]), value=1.0, measured_at=now, recorded_at=now,
                        author_id=int(sys.argv[3]), confidence=6))
    session.commit()
