"""Export and import: the whole database as JSON Lines (``kpictl.export/1``), losslessly.

Design decisions:

* One header line, then one record per line in a fixed order of types: people, KPIs,
  assignments, field changes (the ``kpi_change`` log that ``--as-of`` rewinds through),
  check-ins, feedback, away windows, and the log of nudges sent. People and KPIs are sorted by handle and key; history records by their
  own time and then by database id. An import inserts in file order, so new ids keep that
  order: every tie that a report breaks "by time, then id" comes back the same way, and a
  second export is byte-identical after the header.
* References are handles and keys, never ids. Times are UTC ISO-8601 with ``Z`` (microseconds
  kept); floats are JSON numbers, which round-trip exactly. The field specs below drive both
  directions, so export and import cannot disagree on a field.
* The last line is an end record, ``{"type": "end", "counts": {…}}``, with the number of
  records of each type. An import refuses a file without it, with anything after it, or whose
  counts differ: an export cut short anywhere — at a line boundary or inside a line — is
  refused whole, with nothing written.
* Check-ins keep their ids (the ids `kpictl amend` and `retract` take); corrections refer to
  the check-in they correct by that id.
* Import writes only into an empty database, streaming, in the caller's one transaction: every
  line is validated as it is read, and any invalid line rolls everything back. A non-empty
  database is compared with the file record by record: identical is a no-op success, anything
  else a conflict (merging two histories is not something a file format can decide).

The package, by noun: ``records`` (the record types and the field specs that drive both
directions), ``exports``, ``imports`` (streaming into an empty database, or comparing with a
non-empty one), ``checks`` (what a record, and the file as a whole, must satisfy) and
``values`` (the value of each field kind).
"""
