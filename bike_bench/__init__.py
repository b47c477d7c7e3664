"""bike-bench: a benchmark and reproducibility harness for BIKE (CVPR 2023).

Importing the top-level package is cheap (no torch, no mmaction) so that the
command line starts fast. The sub-packages that use the pinned stack
(``models``, ``datasets``, ``evaluation``, ``engine``) apply
``bike_bench.compat`` when they are imported.
"""
__version__ = '0.1.0'
