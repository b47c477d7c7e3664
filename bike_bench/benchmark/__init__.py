"""Benchmark: speed, pipeline efficiency, memory and counted FLOPs (`bike-bench bench`)."""
