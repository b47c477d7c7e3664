"""``bike-bench doctor``."""


def add_parser(subparsers):
    parser = subparsers.add_parser('doctor', help='(not yet available)')
    parser.set_defaults(func=lambda args: print('doctor: not yet available') or 1)
