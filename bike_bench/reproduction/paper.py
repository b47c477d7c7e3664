"""The paper's (and the official model zoo's) figures as validated data.

Each table lives in one YAML file under ``results/paper/`` named after the
table (``k400_sota.yaml``, ``activitynet.yaml``, ``charades.yaml``,
``few_shot.yaml``, ``zero_shot.yaml``, ``model_zoo.yaml``)::

    table: k400_sota          # must equal the file name
    title: ...
    document: ...             # where the figures were read
    metrics: [top1, top5]     # the metric columns of the table
    extraction_notes: [...]   # optional
    rows: [ ... ]             # one mapping per printed row, see below

A row's layout is the TypedDict of its table (:class:`K400SotaRow`, ...):
the common keys of :class:`_RowBase` plus the table's own. Every row names
its ``source`` (one of :data:`SOURCES`) and its ``views`` (``"4x3"`` =
4 temporal clips x 3 crops, or null where the document gives none); each
metric cell inherits both and may override them. A metric cell is a number,
null (printed as "-") or ``{value, std, approx, views, source}``.
All figures are percentages in [0, 100].

FLOPs are kept as printed (``"830x12"``) and split into GFLOPs per view and
view count (:class:`Flops`); a bare figure (``"8248"``) has no split.

Use :func:`rows` for a table's rows and :func:`paper_figure` to look up one
figure by (table, row id, metric). Row ids are stable slugs meant to be
referenced from other code (experiment registry, table builder).
"""
# No ``from __future__ import annotations``: TypedDict needs real
# annotations to tell NotRequired keys apart. typing_extensions (a torch
# dependency) keeps this working on Python 3.10.
import functools
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import yaml
from typing_extensions import NotRequired, TypedDict, is_typeddict

from bike_bench import paths

SOURCES = ('reported in the paper', 'official model zoo')
PAPER_DIR = paths.paper_dir()

_SLUG = re.compile(r'^[a-z0-9]+(?:-[a-z0-9]+)*$')
_VIEWS = re.compile(r'^([1-9]\d*)x([1-9]\d*)$')
_FLOPS = re.compile(r'^(\d+(?:\.\d+)?)(?:x([1-9]\d*))?$')
_CELL_KEYS = {'value', 'std', 'approx', 'views', 'source'}
_FILE_KEYS = {'table', 'title', 'document', 'metrics', 'rows'}
_FILE_OPTIONAL = {'extraction_notes'}


class PaperDataError(ValueError):
    """A malformed paper-figures file; the message names the file and row."""


class CellDict(TypedDict):
    """A metric cell written out in full (otherwise a bare number)."""
    value: float
    std: NotRequired[Optional[float]]
    approx: NotRequired[bool]
    views: NotRequired[Optional[str]]
    source: NotRequired[str]


MetricValue = Union[None, float, CellDict]


class _RowBase(TypedDict):
    """Keys every row has.

    ``method`` is the readable plain name (``MVFNet_En``) and
    ``name_as_printed`` the raw cell (``$MVFNet_{En}$ [54]``); both are null
    where the document lost or omitted the name, and ``name_missing: true``
    must then say that the name is unknown.
    """
    id: str
    method: Optional[str]
    name_as_printed: Optional[str]
    source: str
    views: Optional[str]
    metrics: Dict[str, MetricValue]
    name_missing: NotRequired[bool]
    name_note: NotRequired[str]
    views_note: NotRequired[str]


class K400SotaRow(_RowBase):
    """Kinetics-400 state of the art; input = frames x resolution^2."""
    ref: Optional[int]
    venue: str
    frames: int
    resolution: int
    pretraining: str
    section: Optional[str]
    flops: Optional[str]
    params_m: Optional[float]
    flops_note: NotRequired[str]
    approx_true_gmac_per_view: NotRequired[float]


class ActivityNetRow(_RowBase):
    """ActivityNet top-1 and mAP."""
    ref: Optional[int]


class CharadesRow(_RowBase):
    """Charades mAP; frames as printed (``'16+64'``), null for "-"."""
    frames: Optional[str]
    frames_as_printed: NotRequired[str]


class FewShotRow(_RowBase):
    """Few-shot top-1 with ``shot`` videos per class."""
    ref: Optional[int]
    shot: int


class ZeroShotRow(_RowBase):
    """Zero-shot top-1; ``printed`` keeps the raw cells per dataset."""
    ref: Optional[int]
    printed: NotRequired[Dict[str, str]]


class ModelZooRow(_RowBase):
    """One released model (or a figure quoted beside one)."""
    dataset: str
    arch: str
    branch: str
    frames: int
    resolution: int
    official_log: Optional[str]
    fusion_weights: NotRequired[Dict[str, float]]


# table -> (row layout, whether every row lists every metric column)
TABLE_SCHEMAS: Dict[str, Tuple[type, bool]] = {
    'k400_sota': (K400SotaRow, True),
    'activitynet': (ActivityNetRow, True),
    'charades': (CharadesRow, True),
    'few_shot': (FewShotRow, True),
    'zero_shot': (ZeroShotRow, True),
    'model_zoo': (ModelZooRow, False),
}


@dataclass(frozen=True)
class Cell:
    """One figure with where it comes from and how it was measured."""
    value: float
    source: str
    views: Optional[str]
    std: Optional[float] = None
    approx: bool = False


@dataclass(frozen=True)
class Flops:
    """FLOPs as printed: ``830x12`` -> 830 GFLOPs per view x 12 views."""
    as_printed: str
    per_view_gflops: Optional[float]
    view_count: Optional[int]


@dataclass(frozen=True)
class PaperRow:
    """A validated row; ``fields`` holds the table-specific keys."""
    table: str
    id: str
    method: Optional[str]
    name_as_printed: Optional[str]
    name_missing: bool
    source: str
    views: Optional[str]
    metrics: Mapping[str, Optional[Cell]]
    fields: Mapping[str, Any]
    flops: Optional[Flops] = None
    line: int = 0


@dataclass(frozen=True)
class PaperTable:
    name: str
    title: str
    document: str
    metrics: Tuple[str, ...]
    rows: Tuple[PaperRow, ...]
    path: Path
    extraction_notes: Tuple[str, ...] = field(default_factory=tuple)

    def row(self, row_id: str) -> PaperRow:
        for row in self.rows:
            if row.id == row_id:
                return row
        raise KeyError(f'{self.path}: no row {row_id!r}; rows: '
                       f'{", ".join(r.id for r in self.rows)}')


def _type_error(value: Any, hint: Any) -> Optional[str]:
    """Why ``value`` does not fit the annotation ``hint`` (None if it fits)."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        errors = [_type_error(value, arg) for arg in typing.get_args(hint)]
        return None if None in errors else errors[-1]
    if hint is type(None):
        return None if value is None else 'must be null'
    if isinstance(hint, type) and is_typeddict(hint):
        return None if isinstance(value, dict) else 'must be a mapping'
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            return 'must be a mapping'
        key_type, value_type = typing.get_args(hint)
        for key, item in value.items():
            error = _type_error(key, key_type) or _type_error(item, value_type)
            if error:
                return f'entry {key!r} {error}'
        return None
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f'must be a number, got {value!r}'
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f'must be an integer, got {value!r}'
    if hint in (str, bool):
        ok = isinstance(value, hint)
        return None if ok else f'must be a {hint.__name__}, got {value!r}'
    raise TypeError(f'unsupported schema annotation {hint!r}')


def _check_views(views: Any, where: str) -> None:
    if views is not None and not (isinstance(views, str)
                                  and _VIEWS.match(views)):
        raise PaperDataError(f'{where}: views must look like "4x3" '
                             f'(clips x crops) or be null, got {views!r}')


def _check_source(source: Any, where: str) -> None:
    if source not in SOURCES:
        raise PaperDataError(f'{where}: source must be one of {SOURCES}, '
                             f'got {source!r}')


def _check_percent(value: Any, what: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PaperDataError(f'{where}: {what} must be a number, got '
                             f'{value!r}')
    if not 0 <= value <= 100:
        raise PaperDataError(f'{where}: {what} = {value} is outside [0, 100]')
    return float(value)


def _parse_cell(raw: Any, row: Mapping[str, Any], where: str
                ) -> Optional[Cell]:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raw = {'value': raw}
    unknown = set(raw) - _CELL_KEYS
    if unknown or 'value' not in raw:
        raise PaperDataError(f'{where}: a cell needs "value" and may have '
                             f'{sorted(_CELL_KEYS - {"value"})}; got '
                             f'{sorted(raw)}')
    views = raw.get('views', row['views'])
    source = raw.get('source', row['source'])
    _check_views(views, where)
    _check_source(source, where)
    std = raw.get('std')
    approx = raw.get('approx', False)
    if not isinstance(approx, bool):
        raise PaperDataError(f'{where}: approx must be true or false')
    return Cell(value=_check_percent(raw['value'], 'value', where),
                std=None if std is None else _check_percent(std, 'std', where),
                views=views, source=source, approx=approx)


def _parse_flops(printed: str, views: Optional[str], where: str) -> Flops:
    match = _FLOPS.match(str(printed))
    if not match:
        raise PaperDataError(f'{where}: flops must look like "830x12" '
                             f'(GFLOPs per view x views) or "8248", got '
                             f'{printed!r}')
    count = int(match.group(2)) if match.group(2) else None
    if count is not None and views is not None:
        clips, crops = map(int, _VIEWS.match(views).groups())
        if clips * crops != count:
            raise PaperDataError(f'{where}: flops {printed!r} counts {count} '
                                 f'views but views are {views}')
    if count is None:  # a bare figure: no per-view split is printed
        return Flops(str(printed), None, None)
    return Flops(str(printed), float(match.group(1)), count)


def _parse_row(table: str, raw: Any, metrics: Tuple[str, ...],
               where: str, line: int) -> PaperRow:
    layout, complete = TABLE_SCHEMAS[table]
    if not isinstance(raw, dict):
        raise PaperDataError(f'{where}: a row must be a mapping')
    hints = typing.get_type_hints(layout)
    missing = layout.__required_keys__ - set(raw)
    unknown = set(raw) - set(hints)
    if missing or unknown:
        raise PaperDataError(
            f'{where}: {layout.__name__} ' +
            (f'misses {sorted(missing)}' if missing else '') +
            (' and ' if missing and unknown else '') +
            (f'has unknown keys {sorted(unknown)}' if unknown else ''))
    for key, value in raw.items():
        error = _type_error(value, hints[key])
        if error:
            raise PaperDataError(f'{where}: {key} {error}')
    if not _SLUG.match(raw['id']):
        raise PaperDataError(f'{where}: id {raw["id"]!r} is not a lower-case '
                             'slug like "vivit-h-16x2"')
    _check_source(raw['source'], where)
    _check_views(raw['views'], where)
    name_missing = raw.get('name_missing', False)
    if name_missing != (raw['method'] is None):
        raise PaperDataError(f'{where}: method is null exactly when '
                             'name_missing is true')
    listed = set(raw['metrics'])
    if listed - set(metrics) or (complete and listed != set(metrics)):
        raise PaperDataError(f'{where}: metrics {sorted(listed)} do not '
                             f'match the table columns {list(metrics)}')
    cells = {name: _parse_cell(value, raw, f'{where}, metric {name!r}')
             for name, value in raw['metrics'].items()}
    if all(cell is None for cell in cells.values()):
        raise PaperDataError(f'{where}: the row has no figure')
    flops = None
    if raw.get('flops') is not None:
        flops = _parse_flops(raw['flops'], raw['views'], where)
    if raw.get('params_m') is not None and raw['params_m'] <= 0:
        raise PaperDataError(f'{where}: params_m must be positive')
    common = set(_RowBase.__annotations__)
    return PaperRow(
        table=table, id=raw['id'], method=raw['method'],
        name_as_printed=raw['name_as_printed'], name_missing=name_missing,
        source=raw['source'], views=raw['views'],
        # read-only: tables are cached and shared between callers
        metrics=types.MappingProxyType(cells),
        fields=types.MappingProxyType(
            {k: v for k, v in raw.items() if k not in common}),
        flops=flops, line=line)


def load_table(path: Union[str, Path]) -> PaperTable:
    """Read and validate one table file.

    Raises:
        PaperDataError: naming the file and the row (index, id, line).
    """
    path = Path(path)
    text = path.read_text(encoding='utf-8')
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise PaperDataError(f'{path}: not valid YAML: {error}') from error
    if not isinstance(data, dict):
        raise PaperDataError(f'{path}: expected a mapping at the top')
    missing, unknown = _FILE_KEYS - set(data), set(data) - _FILE_KEYS - \
        _FILE_OPTIONAL
    if missing or unknown:
        raise PaperDataError(f'{path}: missing keys {sorted(missing)}, '
                             f'unknown keys {sorted(unknown)}')
    table = data['table']
    if table not in TABLE_SCHEMAS or table != path.stem:
        raise PaperDataError(f'{path}: table {table!r} must be one of '
                             f'{sorted(TABLE_SCHEMAS)} and equal the file '
                             'name')
    metrics = data['metrics']
    if not (isinstance(metrics, list) and metrics
            and all(isinstance(m, str) for m in metrics)):
        raise PaperDataError(f'{path}: metrics must be a list of names')
    if not isinstance(data['rows'], list) or not data['rows']:
        raise PaperDataError(f'{path}: rows must be a non-empty list')
    row_nodes = next(value for key, value in node.value
                     if key.value == 'rows').value
    rows, seen = [], set()
    for index, (raw, row_node) in enumerate(zip(data['rows'], row_nodes), 1):
        line = row_node.start_mark.line + 1
        label = raw.get('id') if isinstance(raw, dict) else None
        where = f'{path}:{line}: row {index} (id {label!r})'
        row = _parse_row(table, raw, tuple(metrics), where, line)
        if row.id in seen:
            raise PaperDataError(f'{where}: duplicate id')
        seen.add(row.id)
        rows.append(row)
    return PaperTable(
        name=table, title=str(data['title']), document=str(data['document']),
        metrics=tuple(metrics), rows=tuple(rows), path=path,
        extraction_notes=tuple(data.get('extraction_notes') or ()))


@functools.lru_cache(maxsize=8)
def _load_dir(directory: str) -> Dict[str, PaperTable]:
    tables = {}
    for path in sorted(Path(directory).glob('*.yaml')):
        table = load_table(path)
        tables[table.name] = table
    absent = set(TABLE_SCHEMAS) - set(tables)
    if absent:
        raise PaperDataError(f'{directory}: no file for tables '
                             f'{sorted(absent)}')
    return tables


def load_tables(directory: Union[str, Path, None] = None
                ) -> Dict[str, PaperTable]:
    """All tables of ``directory`` (default ``results/paper``), validated."""
    return dict(_load_dir(str(Path(directory or PAPER_DIR).resolve())))


def rows(table: str, directory: Union[str, Path, None] = None
         ) -> List[PaperRow]:
    """The rows of one table, in printed order."""
    tables = load_tables(directory)
    if table not in tables:
        raise KeyError(f'no paper table {table!r}; tables: '
                       f'{", ".join(sorted(tables))}')
    return list(tables[table].rows)


def paper_figure(table: str, row_id: str, metric: str,
                 directory: Union[str, Path, None] = None) -> Optional[Cell]:
    """The figure of ``metric`` in row ``row_id`` of ``table``.

    Returns None where the document prints no figure ("-").

    Raises:
        KeyError: the table, row or metric does not exist.
    """
    tables = load_tables(directory)
    if table not in tables:
        raise KeyError(f'no paper table {table!r}; tables: '
                       f'{", ".join(sorted(tables))}')
    row = tables[table].row(row_id)
    if metric not in row.metrics:
        raise KeyError(f'{tables[table].path}: row {row_id!r} has no metric '
                       f'{metric!r}; it has {", ".join(row.metrics)}')
    return row.metrics[metric]
