# The benchmark is run by hand (`python -m tests.benchmarks`), never by the test suite.
collect_ignore_glob = ["*.py"]
