"""Bulk check-ins and delegation from CSV or JSON Lines (`checkin --file`, `assign --file`).

A file is validated whole before anything is written: every bad row is reported with its line
number, and unless the caller allows skipping, one bad row means nothing is written. The
whole file is one transaction, so a crash or a kill mid-way leaves all or nothing.

Check-ins go in with set-based inserts (SQLAlchemy Core, many rows per statement) after the
KPIs, people and already-recorded idempotency keys they refer to were loaded once; a row whose
``key`` was recorded before is skipped and counted, so a cron job can re-send a file safely.
KPI rows go through the same ``assign`` service as the command line, each in a savepoint.

The package, by noun: ``rows`` (a file read as rows, and the values of their cells, shared by
both kinds of file), ``checkins`` (`checkin --file`) and ``kpis`` (`assign --file`).
"""
