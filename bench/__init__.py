"""The benchmark harness: measurements of the product, kept out of the installed packages.

Run from the repository root: ``python -m bench`` (every figure, README "Benchmarks"),
``python -m bench.console``, ``python -m bench.forget``, ``python -m bench.retention_backup``
and ``python -m bench.store_api``.
"""
