"""Build a dataset's manifests from its source files.

``build_dataset('ucf101', 'official', source='lists/ucf101', out='data/ucf101')``
finds the format's source files (``manifests/ucf101.yaml``) and runs its
builder for every manifest whose files are present; ``build_custom('mydata',
'folder', source='videos/', out='data/mydata')`` does the same for a dataset
of one's own, which needs no spec (its manifests carry its name, classes
and roles). Both then run the build contract (``builders/contract.py``) on
what the builder made and write into the dataset folder ``out``: the class
table(s), ``manifests/<name>.jsonl`` and, when source records were left out
or entries have no file, ``manifests/<name>.dropped.csv`` (which and why)
and ``manifests/<name>.missing.txt``. ``bike-bench manifests build`` and
``bike-bench synth`` come through here.
"""
from __future__ import annotations

import csv
import dataclasses
import glob
import io
import os
import re
from typing import Dict, List, Optional, Sequence

from bike_bench import catalog
from bike_bench.datasets.builders import BuildContext, BuildResult, SourceError, get_builder
from bike_bench.datasets.builders.context import BuildSpec
from bike_bench.datasets.builders.contract import check_build
from bike_bench.datasets.builders.custom import (CLASS_TABLE, build_csv, build_folder,
                                                 split_role)
from bike_bench.datasets.builders.lists import (build_mmaction_rawframes,
                                                build_mmaction_video)
from bike_bench.datasets.builders.result import Issue
from bike_bench.datasets.class_table import write_class_table
from bike_bench.datasets.manifest import write_manifest
from bike_bench.datasets.specs import DatasetSpec, load_spec, missing_for, resolve_files
from bike_bench.utils.atomic import atomic_write_text

CUSTOM_FORMATS = {'folder': build_folder, 'csv': build_csv,
                  'mmaction-video': build_mmaction_video,
                  'mmaction-rawframes': build_mmaction_rawframes}
# A custom dataset's name goes into file names, run ids and config names
# (where ``_`` separates the parts): lower case, digits and ``-``.
CUSTOM_NAME = re.compile(r'^[a-z0-9][a-z0-9-]*$')
# File names that look like a class table (reported when none was used).
_TABLE_LIKE = re.compile(r'(label|class)', re.IGNORECASE)


class BuildContractError(SourceError):
    """The build contract refused a build; ``issues`` holds every finding."""

    def __init__(self, message: str, issues: Sequence[Issue]):
        super().__init__(message)
        self.issues = list(issues)


@dataclasses.dataclass
class BuildOutcome:
    dataset: str
    format: str
    out_dir: str
    result: BuildResult
    skipped: Dict[str, List[str]]      # manifest -> missing source files
    written: Dict[str, str] = dataclasses.field(default_factory=dict)
    reports: Dict[str, str] = dataclasses.field(default_factory=dict)  # dropped.csv
    missing: Dict[str, str] = dataclasses.field(default_factory=dict)  # missing.txt

    @property
    def issues(self) -> List[Issue]:
        return self.result.issues

    def rows(self) -> List[dict]:
        """One summary row per manifest (built or skipped): entries, source
        records (expected), left out (dropped), entries without a file
        (missing), classes and classes with entries (covered)."""
        rows = []
        for built in self.result.manifests:
            manifest = built.manifest
            covered = len({label for entry in manifest.entries for label in entry.labels})
            dropped = sum(d.manifest == built.name for d in self.result.dropped)
            rows.append({'manifest': built.name, 'entries': len(manifest.entries),
                         'expected': built.expected, 'dropped': dropped,
                         'missing': len(self.result.absent.get(built.name, [])),
                         'classes': manifest.num_classes, 'covered': covered,
                         'path': self.written.get(built.name, '')})
        for name, missing in self.skipped.items():
            rows.append({'manifest': name, 'entries': None, 'expected': None,
                         'dropped': None, 'missing': None, 'classes': None,
                         'covered': None,
                         'path': 'not built, missing: ' + ', '.join(missing)})
        return rows


def build_spec(spec: DatasetSpec, fmt: str, manifest: str) -> BuildSpec:
    """The ``BuildSpec`` of one ``builds:`` item of a dataset spec."""
    info = dict(spec.formats[fmt].builds[manifest])
    needs = info.pop('needs')
    target = spec.manifests[manifest]
    info.setdefault('multi_label', target.multi_label)
    return BuildSpec(manifest, list(needs), target.role, target.class_table, info)


def class_table_key(spec: DatasetSpec, fmt: str) -> str:
    """The source-file key of a format's class table (for ``--classes``).

    Raises:
        SourceError: the format has no single class-table file.
    """
    keys = list(spec.formats[fmt].files)
    if 'classes' in keys:
        return 'classes'
    tables = [key for key in keys if 'class' in key]
    if len(tables) == 1:
        return tables[0]
    raise SourceError(f'{spec.dataset}/{fmt}: --classes is ambiguous or not '
                      f'applicable (class-table files: {tables or "none"}); give '
                      '--file KEY=PATH with one of ' + ', '.join(keys))


def build_dataset(dataset: str, fmt: Optional[str] = None, source: Optional[str] = None,
                  out: Optional[str] = None, files: Optional[Dict[str, str]] = None,
                  only: Optional[Sequence[str]] = None,
                  media: Optional[Dict[str, str]] = None, pattern: Optional[str] = None,
                  filename_tmpl: Optional[str] = None, frames: Optional[bool] = None,
                  min_frames: int = 0, data_root: str = '..',
                  spec_dir: Optional[str] = None, write: bool = True,
                  classes: Optional[str] = None, strict: bool = False) -> BuildOutcome:
    """Build (and by default write) the manifests of ``dataset``.

    Args:
        fmt: source format (a key of the spec's ``formats``); default the
            spec's ``default_format``.
        source: folder holding the source files (default ``out``).
        out: the dataset folder (default ``data/<folder>``).
        files: ``key -> path`` overrides of single source files.
        only: build just these manifests (each must have its files).
        media: ``manifest -> folder`` overrides (``*`` for all).
        pattern, filename_tmpl, frames, min_frames: see ``BuildContext``.
        data_root: the manifests' ``data_root`` (``..``: the dataset folder).
        classes: the class table (the format's class-table file).
        strict: refuse the build on contract warnings too.

    Raises:
        SourceError: bad or missing source files; ``BuildContractError``
            when the build contract finds errors (or, ``strict``, warnings).
    """
    spec = load_spec(dataset, spec_dir)
    fmt = fmt or spec.default_format
    if fmt not in spec.formats:
        raise SourceError(f'{dataset}: unknown format {fmt!r}; known: '
                          f'{sorted(spec.formats)}')
    fspec = spec.formats[fmt]
    out = out or os.path.join('data', spec.folder)
    files = dict(files or {})
    if classes:
        files[class_table_key(spec, fmt)] = classes
    found = resolve_files(fspec, [source or out], files)
    wanted = list(only) if only else list(fspec.builds)
    unknown = [name for name in wanted if name not in fspec.builds]
    if unknown:
        raise SourceError(f'{dataset}/{fmt}: cannot build {unknown}; it builds '
                          f'{list(fspec.builds)}')
    builds, skipped = [], {}
    for name in wanted:
        lacking = missing_for(fspec, name, found)
        if lacking:
            skipped[name] = lacking
        else:
            builds.append(build_spec(spec, fmt, name))
    if not builds or (only and skipped):
        detail = '; '.join(f'{name}: {", ".join(keys)}' for name, keys in skipped.items())
        where = source or out
        raise SourceError(f'{dataset}/{fmt}: source files missing under {where} '
                          f'({detail}); expected paths: ' + ', '.join(
                              f'{key}={"|".join(fspec.files[key].paths)}'
                              for key in fspec.files))
    ctx = BuildContext(
        dataset=dataset, format=fmt, files=found, builds=builds,
        media=dict(fspec.media, **(media or {})),
        pattern=pattern or fspec.pattern,
        filename_tmpl=filename_tmpl or fspec.filename_tmpl,
        frames=fspec.frames if frames is None else frames,
        min_frames=min_frames, out_dir=out, data_root=data_root)
    result = get_builder(fspec.builder)(ctx)
    skipped.update(result.skipped)
    if only and result.skipped:
        raise SourceError(f'{dataset}/{fmt}: cannot build ' + '; '.join(
            f'{name} (missing {", ".join(what)})' for name, what in result.skipped.items()))
    _optional_tables(result, spec, fmt, found, source or out)
    return _finish(BuildOutcome(dataset, fmt, out, result, skipped), write, strict)


def _optional_tables(result: BuildResult, spec: DatasetSpec, fmt: str,
                     found: Dict[str, str], folder: str) -> None:
    """When a class table was derived although the format can read one:
    which files were looked for, and which class-table-like files of the
    source folder were not used."""
    fspec = spec.formats[fmt]
    needed = {key for info in fspec.builds.values() for need in info['needs']
              for key in str(need).split('|')}
    optional = [key for key in fspec.files if key not in needed and key not in found
                and 'class' in key]
    if not optional or not any(b.classes_derived for b in result.manifests):
        return
    used = {os.path.abspath(path) for path in found.values()}
    written = {t for t in result.class_tables}
    candidates = []
    for pattern in ('*', os.path.join('lists', '*')):
        for path in sorted(glob.glob(os.path.join(folder, pattern))):
            name = os.path.basename(path)
            if os.path.isfile(path) and _TABLE_LIKE.search(name) and \
                    name.endswith(('.csv', '.txt')) and name not in written and \
                    os.path.abspath(path) not in used:
                candidates.append(os.path.relpath(path, folder))
    looked = '; '.join(f'{key}: ' + ', '.join(fspec.files[key].paths) for key in optional)
    text = (f'no class table found (looked for {looked}); class ids follow the '
            'labels of the source')
    if candidates:
        text += (f'. Not used: {", ".join(candidates)} -- to use one, give '
                 f'--classes {os.path.join(folder, candidates[0])}')
        result.note('warning', 'class_table', None, text)
    else:
        result.note('note', 'class_table', None, text + ' (give one with --classes FILE)')


def _finish(outcome: BuildOutcome, write: bool, strict: bool) -> BuildOutcome:
    """Run the build contract, then write (unless it refuses)."""
    result = outcome.result
    check_build(result, outcome.out_dir, result.manifests[0].manifest.data_root
                if result.manifests else '..')
    for table, origin in result.class_sources.items():
        result.note('note', 'class_table', None, f'{table}: class names from {origin}')
    refused = [i for i in result.issues if i.severity == 'error' or
               (strict and i.severity == 'warning')]
    if refused:
        first = refused[0]
        more = f' (and {len(refused) - 1} more)' if len(refused) > 1 else ''
        where = f'{first.manifest}: ' if first.manifest else ''
        raise BuildContractError(
            f'{outcome.dataset}: build refused{" (--strict)" if strict else ""}: '
            f'{where}{first.message}{more}',
            [i for i in result.issues if i.severity != 'note'])
    for built in result.manifests:
        built.manifest.source['missing_files'] = len(result.absent.get(built.name, []))
        covered = {label for entry in built.manifest.entries for label in entry.labels}
        empty = [name for i, name in enumerate(built.manifest.classes) if i not in covered]
        if empty:
            built.manifest.source['empty_classes'] = empty
    if write:
        write_result(outcome)
    return outcome


def build_custom(name: str, fmt: str, source: str, out: Optional[str] = None,
                 annotations: Optional[Dict[str, str]] = None,
                 classes: Optional[str] = None, split: Optional[str] = None,
                 filename_tmpl: Optional[str] = None, min_frames: int = 0,
                 write: bool = True, strict: bool = False) -> BuildOutcome:
    """Build the manifests of a dataset of one's own (no spec needed).

    Args:
        name: the dataset's name (manifests, run ids, results, tables).
        fmt: ``folder``, ``csv``, ``mmaction-video`` or ``mmaction-rawframes``
            (``builders/custom.py``).
        source: the folder entry paths are relative to (the videos).
        out: the dataset folder written (default ``data/<name>``).
        annotations: ``split -> file`` (list formats: one list per split;
            ``csv``: ``{'': file}``); default: found in ``source``.
        classes: the class table (needed by the list formats).
        split: the split of a CSV without a ``split`` column (default test).

    Raises:
        SourceError: a bad name, format or source (one line naming it).
    """
    if not CUSTOM_NAME.match(name or ''):
        raise SourceError(f'dataset name {name!r}: use lower-case letters, digits '
                          'and "-" (it goes into file names, run ids and config '
                          'names, where "_" separates the parts)')
    if name in catalog.accepted_names():
        raise SourceError(f'{name!r} is a dataset with a shipped spec: build it with '
                          f'`bike-bench manifests build {catalog.get(name).name}`, or '
                          'give your own dataset another name')
    if fmt not in CUSTOM_FORMATS:
        raise SourceError(f'unknown format {fmt!r} for a custom dataset; use one of '
                          + ', '.join(CUSTOM_FORMATS))
    if not os.path.isdir(source):
        raise SourceError(f'source folder not found: {source}')
    out = out or os.path.join('data', name)
    files: Dict[str, str] = {}
    if classes:
        if not os.path.isfile(classes):
            raise FileNotFoundError(f'class table not found: {classes}')
        files['classes'] = classes
    builds: List[BuildSpec] = []
    if fmt == 'folder':
        files['root'] = source
    elif fmt == 'csv':
        files['annotations'] = _one_csv(source, annotations, classes)
    else:
        if 'classes' not in files:
            raise SourceError(f'{fmt} lists hold class ids: give the class table '
                              'with --classes FILE')
        lists = annotations or _find_lists(source, fmt)
        for split_name, path in lists.items():
            if not split_name:
                raise SourceError(f'{path}: say which split it is (--ann SPLIT={path})')
            if not os.path.isfile(path):
                raise FileNotFoundError(f'annotation list not found: {path}')
            files[split_name] = path
            builds.append(BuildSpec(split_name, [split_name, 'classes'],
                                    split_role(split_name), CLASS_TABLE))
    data_root = os.path.relpath(os.path.abspath(source),
                                os.path.abspath(os.path.join(out, 'manifests')))
    ctx = BuildContext(dataset=name, format=fmt, files=files, builds=builds,
                       filename_tmpl=filename_tmpl, min_frames=min_frames,
                       out_dir=out, data_root=data_root.replace(os.sep, '/'),
                       options={'split': split} if split else {})
    result = CUSTOM_FORMATS[fmt](ctx)
    if not result.manifests:
        raise SourceError(f'{source}: nothing to build (' + '; '.join(
            f'{k}: {", ".join(v)}' for k, v in result.skipped.items()) + ')')
    return _finish(BuildOutcome(name, fmt, out, result, dict(result.skipped)), write, strict)


def _one_csv(source: str, annotations: Optional[Dict[str, str]],
             classes: Optional[str]) -> str:
    if annotations:
        if len(annotations) != 1:
            raise SourceError('the csv format reads one CSV (its "split" column '
                              'says the splits)')
        path = next(iter(annotations.values()))
        if not os.path.isfile(path):
            raise FileNotFoundError(f'annotation CSV not found: {path}')
        return path
    found = [p for p in sorted(glob.glob(os.path.join(source, '*.csv')))
             if not (classes and os.path.samefile(p, classes))]
    if len(found) != 1:
        raise SourceError(f'{source}: {"no" if not found else len(found)} CSV files '
                          'at the top; give the annotation CSV with --ann FILE')
    return found[0]


def _find_lists(source: str, fmt: str) -> Dict[str, str]:
    """``split -> list`` of the ``*_{train,val,test}*.txt`` lists in ``source``."""
    lists: Dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(source, '*.txt'))):
        stem = os.path.basename(path).lower()
        for split_name in ('train', 'val', 'test'):
            if re.search(rf'(^|[_\-.]){split_name}([_\-.]|$)', stem):
                if split_name in lists:
                    raise SourceError(f'{source}: two {split_name} lists ({lists[split_name]}, '
                                      f'{path}); give each with --ann SPLIT=FILE')
                lists[split_name] = path
    if not lists:
        raise SourceError(f'{source}: no {fmt} lists named *_train*.txt, *_val*.txt '
                          'or *_test*.txt; give each with --ann SPLIT=FILE')
    return lists


def write_result(outcome: BuildOutcome) -> None:
    out, result = outcome.out_dir, outcome.result
    for table, names in result.class_tables.items():
        write_class_table(os.path.join(out, table), names)
    for built in result.manifests:
        folder = os.path.join(out, 'manifests')
        path = os.path.join(folder, f'{built.name}.jsonl')
        write_manifest(built.manifest, path)
        outcome.written[built.name] = path
        report = os.path.join(folder, f'{built.name}.dropped.csv')
        dropped = [d for d in result.dropped if d.manifest == built.name]
        if dropped:
            atomic_write_text(report, dropped_csv(dropped))
            outcome.reports[built.name] = report
        elif os.path.exists(report):
            os.remove(report)  # stale report of an earlier build
        missing = os.path.join(folder, f'{built.name}.missing.txt')
        absent = result.absent.get(built.name)
        if absent:
            atomic_write_text(missing, '\n'.join(absent) + '\n')
            outcome.missing[built.name] = missing
        elif os.path.exists(missing):
            os.remove(missing)


def dropped_csv(dropped) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['manifest', 'source', 'line', 'path', 'reason'])
    for item in dropped:
        writer.writerow([item.manifest, item.source, item.line, item.path, item.reason])
    return buffer.getvalue()
