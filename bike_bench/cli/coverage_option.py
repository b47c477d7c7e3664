"""``--min-coverage F`` of ``test``, ``zeroshot`` and ``reproduce`` (the
policy itself is bike_bench/datasets/coverage.py; this module imports
nothing heavy, so ``--help`` stays fast)."""
from __future__ import annotations

DEFAULT_MIN_COVERAGE = 1.0


def add_argument(parser) -> None:
    """Add ``--min-coverage F`` to a command's parser."""
    parser.add_argument(
        '--min-coverage', type=float, default=DEFAULT_MIN_COVERAGE, metavar='F',
        help='smallest fraction of a test manifest\'s videos that must be present '
        '(default 1.0: refuse when one is missing, listing them in '
        '<work_dir>/missing_<name>.txt); below 1.0 the present videos are '
        'evaluated and results and tables say on how many')
