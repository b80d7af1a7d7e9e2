"""kpictl: delegate KPIs, collect check-ins, see early what is on track."""

__version__ = "0.1.0"
