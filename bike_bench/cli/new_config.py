"""``bike-bench new-config NAME --from CONFIG --manifests OUT``: a config of
one's own.

Writes ``NAME.py`` (in the current folder, or ``--out``) that inherits
``CONFIG`` (a shipped config's name or any config file) and points its
loaders at the manifests of the dataset folder ``OUT`` (``manifests build
custom --out OUT``): training, validation and test manifests by their role,
the class table (which the loaders check the manifests against) and the
class count. ``--max-epochs N`` shortens or lengthens the schedule and
rescales the learning-rate schedulers that end with it.

A shipped config is inherited through the installed package, resolved when
the file is read (MMEngine evaluates ``_base_``), so the file works from any
folder and with any installation of bike-bench; another config file is
inherited by its path relative to the new file.
"""
from __future__ import annotations

import json
import os
import pprint
import sys
from typing import Dict, List, Optional, Tuple

ROLES = ('train', 'val', 'test')


def add_parser(subparsers):
    parser = subparsers.add_parser('new-config', help="write a config for a dataset "
                                   "of your own that inherits a shipped one")
    parser.add_argument('name', help='config name (the file NAME.py)')
    parser.add_argument('--from', dest='base', required=True, metavar='CONFIG',
                        help='config to inherit: a shipped config\'s name or a file')
    parser.add_argument('--manifests', required=True, metavar='OUT',
                        help='dataset folder with manifests/*.jsonl (the --out of '
                        '`manifests build custom`)')
    parser.add_argument('--max-epochs', type=int, metavar='N',
                        help='training epochs (the lr schedule follows)')
    parser.add_argument('--out', help='file to write (default ./NAME.py)')
    for role in ROLES:
        parser.add_argument(f'--{role}', metavar='MANIFEST',
                            help=f'the {role} manifest\'s name in OUT/manifests '
                            f'(default: the one whose entries have role {role})')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing file')
    parser.set_defaults(func=run)


class NewConfigError(ValueError):
    """A config that cannot be written as asked; the message says why."""


def _header(path: str) -> Tuple[dict, Optional[str]]:
    """A manifest's header and the role of its first entry."""
    try:
        with open(path, encoding='utf-8-sig') as handle:
            header = json.loads(handle.readline())
            first = handle.readline()
        role = json.loads(first).get('split') if first.strip() else None
    except (json.JSONDecodeError, AttributeError):
        raise NewConfigError(f'{path}: not a bike-bench manifest') from None
    if not isinstance(header, dict):
        raise NewConfigError(f'{path}: not a bike-bench manifest')
    return header, role


def find_manifests(folder: str, chosen: Dict[str, Optional[str]]) -> Dict[str, str]:
    """``role -> manifest path`` in ``folder/manifests``.

    Train, val and test by the role of their entries (test falls back to
    val, val to test), unless named in ``chosen``.

    Raises:
        NewConfigError: no manifests, no training manifest, or several of a
            role (name the one to use).
    """
    from bike_bench.datasets.manifest import HEADER_KEY
    where = os.path.join(folder, 'manifests')
    names = sorted(n[:-6] for n in os.listdir(where) if n.endswith('.jsonl')) \
        if os.path.isdir(where) else []
    if not names:
        raise NewConfigError(f'no manifests in {where} (build them with `bike-bench '
                             'manifests build custom --out ...`)')
    by_role: Dict[str, List[str]] = {}
    for name in names:
        header, role = _header(os.path.join(where, f'{name}.jsonl'))
        if header.get(HEADER_KEY) is None:
            raise NewConfigError(f'{where}/{name}.jsonl: not a bike-bench manifest')
        by_role.setdefault(role or 'test', []).append(name)
    found = {}
    for role in ROLES:
        name = chosen.get(role)
        if name is None:
            options = by_role.get(role) or by_role.get({'val': 'test', 'test': 'val'}
                                                       .get(role, ''), [])
            if len(options) > 1:
                raise NewConfigError(f'{where}: several {role} manifests ({", ".join(options)}); '
                                     f'choose one with --{role}')
            name = options[0] if options else None
        if name is None:
            continue
        path = os.path.join(where, f'{name}.jsonl')
        if not os.path.isfile(path):
            raise NewConfigError(f'manifest not found: {path} (there: {", ".join(names)})')
        found[role] = path
    if 'train' not in found:
        raise NewConfigError(f'{where}: no training manifest (entries of role train); '
                             'name one with --train')
    return found


def _rescale(schedulers, old_epochs: int, new_epochs: int) -> list:
    """Epoch-based schedulers that end with the old schedule end with the new
    one (a cosine's ``T_max`` follows); a warm-up must fit in front of it.

    Raises:
        NewConfigError: a warm-up of the inherited schedule is not shorter
            than ``new_epochs``.
    """
    out = []
    for item in schedulers:
        item = dict(item)
        if item.get('by_epoch', True):
            warm = item.get('warmup_epochs')
            ends = item.get('end')
            if (warm is not None and warm >= new_epochs) or \
                    (ends is not None and ends != old_epochs and ends >= new_epochs):
                raise NewConfigError(
                    f'the inherited schedule warms up for {warm or ends} epochs '
                    f'({item.get("type")}); give --max-epochs above that, or '
                    'write param_scheduler into the new config yourself')
            if ends == old_epochs:
                item['end'] = new_epochs
                if 'T_max' in item:
                    item['T_max'] = new_epochs - item.get('begin', 0)
        out.append(item)
    return out


def base_reference(base: str, target: str) -> Tuple[str, str]:
    """(``_base_`` expression, how it is found) of config ``base`` for a file at ``target``."""
    from bike_bench import paths
    shipped = paths.config_dir().resolve()
    resolved = os.path.realpath(base)
    if resolved.startswith(str(shipped) + os.sep):
        relative = os.path.relpath(resolved, shipped).replace(os.sep, '/')
        expression = ("__import__('bike_bench.paths', fromlist=['config_dir'])"
                      f".config_dir()\n    .joinpath({relative!r}).as_posix()")
        return expression, f'the shipped config {relative} (from the installed package)'
    relative = os.path.relpath(resolved, os.path.dirname(os.path.abspath(target)))
    return repr(relative.replace(os.sep, '/')), f'{base} (by its path from this file)'


def _dict_text(item: dict) -> str:
    """``dict(key=value, ...)`` as configs write it."""
    return 'dict(' + ', '.join(f'{key}={value!r}' for key, value in item.items()) + ')'


def _shown(path: str) -> str:
    return path.replace(os.sep, '/')


def write_new_config(name: str, base: str, manifests: str, max_epochs: Optional[int] = None,
                     out: Optional[str] = None, chosen: Optional[Dict[str, Optional[str]]] = None,
                     force: bool = False) -> str:
    """Write the config; returns its path. See the module docstring.

    Raises:
        NewConfigError: a bad name, an existing file (without ``force``),
            manifests that do not make a dataset, a base without loaders.
    """
    from mmengine.config import Config
    from bike_bench.datasets.manifest import read_manifest
    from bike_bench.paths import resolve_config
    stem = name[:-3] if name.endswith('.py') else name
    if not stem or os.sep in stem or '/' in stem:
        raise NewConfigError(f'config name {name!r}: a file name without folders '
                             '(use --out for another place)')
    target = out or f'{stem}.py'
    if os.path.exists(target) and not force:
        raise NewConfigError(f'{target} exists; give --force to replace it')
    base_path = resolve_config(base)
    cfg = Config.fromfile(base_path)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if not cfg.get(loader):
            raise NewConfigError(f'{base_path} has no {loader}: inherit a config that '
                                 'trains and tests (e.g. the smoke config)')
    found = find_manifests(manifests, chosen or {})
    read = {role: read_manifest(path) for role, path in found.items()}
    train = read['train']
    for role, manifest in read.items():
        if manifest.classes != train.classes:
            raise NewConfigError(f'{found[role]}: its classes differ from those of '
                                 f'{found["train"]}; one class table per config')
    table = os.path.normpath(os.path.join(os.path.dirname(found['train']),
                                          train.class_table or '../classes.csv'))
    expression, how = base_reference(base_path, target)
    loaders = {'train': found['train'], 'val': found.get('val', found.get('test')),
               'test': found.get('test', found.get('val'))}
    lines = [
        f'# {stem}: BIKE on the dataset {train.dataset!r} (written by `bike-bench '
        'new-config`; edit freely).',
        f'# Inherits {how}:',
        '# MMEngine evaluates `_base_` when it reads this file.',
        f'_base_ = [\n    {expression}]',
        '',
        f'# The dataset: manifests of {_shown(manifests)} (`bike-bench manifests build`).',
        f'dataset_name = {train.dataset!r}',
        f'class_table = {_shown(table)!r}  # the loaders check the manifests against it',
        f'num_classes = {train.num_classes}',
        f'class_names = {pprint.pformat(train.classes, width=88, compact=True)}',
    ]
    for role in ROLES:
        if loaders[role] is None:
            continue
        lines.append(f'{role}_dataloader = dict(dataset=dict(\n    ann_file='
                     f'{_shown(loaders[role])!r}, class_table=class_table))')
    lines.append('model = dict(num_classes=num_classes)')
    if max_epochs is not None:
        if max_epochs < 1:
            raise NewConfigError(f'--max-epochs {max_epochs}: at least 1')
        old = int(cfg.train_cfg.get('max_epochs') or max_epochs)
        schedulers = cfg.get('param_scheduler') or []
        if isinstance(schedulers, dict):
            schedulers = [schedulers]
        inherited = [s.to_dict() if hasattr(s, 'to_dict') else dict(s)
                     for s in schedulers]
        rescaled = _rescale(inherited, old, max_epochs)
        lines += ['', f'# {max_epochs} epochs (the inherited config trains {old}); '
                  'the lr schedule ends with them.',
                  f'max_epochs = {max_epochs}',
                  'train_cfg = dict(max_epochs=max_epochs)']
        # A phase that states no `end` follows train_cfg.max_epochs already
        # (the Runner sets it); only explicit ends are written anew.
        if rescaled != inherited:
            lines.append('param_scheduler = [\n'
                         + ''.join(f'    {_dict_text(s)},\n' for s in rescaled) + ']')
    from bike_bench.utils.atomic import atomic_write_text
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    atomic_write_text(target, '\n'.join(lines) + '\n')
    return target


def run(args) -> int:
    chosen = {role: getattr(args, role) for role in ROLES}
    try:
        path = write_new_config(args.name, args.base, args.manifests, args.max_epochs,
                                args.out, chosen, args.force)
    except (NewConfigError, FileNotFoundError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    from mmengine.config import Config
    cfg = Config.fromfile(path)  # it reads back
    print(f'wrote {path} (inherits {os.path.basename(args.base)}; '
          f'{cfg.num_classes} classes; train '
          f'{cfg.train_dataloader.dataset.ann_file}, '
          f'{cfg.train_cfg.max_epochs} epochs)')
    print(f'next: bike-bench train {path}')
    return 0
