"""bike-bench: a benchmark and reproducibility harness for BIKE (CVPR 2023)."""
from bike_bench import compat as _compat

__version__ = '0.1.0'

_compat.apply()
