"""``python -m bench``: every figure of the README's "Benchmarks" (bench/run.py)."""

from bench.run import main

main()
