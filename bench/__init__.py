"""Benchmarks of the trained memory; run with `python -m bench.retrieval` (see bench/README.md)."""
