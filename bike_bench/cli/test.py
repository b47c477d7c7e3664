"""``bike-bench test``."""


def add_parser(subparsers):
    parser = subparsers.add_parser('test', help='(not yet available)')
    parser.set_defaults(func=lambda args: print('test: not yet available') or 1)
