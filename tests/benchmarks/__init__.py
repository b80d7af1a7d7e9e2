"""kpictl's performance benchmark (PRODUCT.md §5): ``python -m tests.benchmarks [--quick]``.

It builds its own data through kpictl's own commands, measures every figure beside its floor
in the same run, and prints a table ``figure | measured | floor | bar | met?``. Nothing here is
collected by ``python -m pytest`` (no ``test_*.py`` files, and ``conftest.py`` ignores them).

Modules:

* ``__main__`` – options, the run plan and the table.
* ``measure``  – subprocess timing (wall, CPU, peak RSS via ``os.wait4``) and medians.
* ``spawner``  – the small process that starts and reaps every measured child.
* ``dataset``  – deterministic people/KPI/check-in files.
* ``floors``   – the floors: raw ``sqlite3`` ``executemany`` and the report's SQL in plain
  ``sqlite3`` (run as a script, standard library only).
* ``floors_pg`` – the report's SQL on PostgreSQL in plain psycopg (``--pg-url``).
* ``compare``  – the report views' bytes with another git revision's source, on one database.
* ``sqlmodel_floor`` – the minimal SQLModel script that inserts one check-in row.
"""
