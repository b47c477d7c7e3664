"""Validation curves from training logs: official BIKE logs and MMEngine's.

Official logs (``reference/logs/<dataset>_<arch>_<frames>_log.txt``) are the
text the official ``train.py`` writes: for each launch an environment
header, the config as a pretty-printed Python dict, then training lines
``Epoch: [e][i/n] ...`` and after each evaluation one of::

    Testing Results: Prec@1 82.860 Prec@5 96.065     (single-view top-1/5)
    Testing Results mAP === 47.979                   (Charades)

One file may hold several launches. A launch whose config has ``resume``
set continues the previous run (the K400 ViT-L/14-336 16f log resumes three
times); any other launch starts a new run. The released ViT-B/32
"video_attributes" log holds two full runs - the official co-training
script runs ``train.py`` then ``train_attributes.py`` - followed by a score
fusion line ``a==0.7 b==0.3 top1==... top5==...``, kept as a
:class:`FusionResult`. The parser itself labels runs by order only.

Charades mAP is kept as printed; docs/method.md#metrics explains how the official
evaluator's figure differs from the whole-test-set mAP.

MMEngine logs: every Runner launch writes
``<work_dir>/<timestamp>/vis_data/scalars.json``, one JSON object a line
(``LocalVisBackend``). Validation lines hold the evaluator's metrics with
their prefix (MMAction2's ``AccMetric``: ``acc/top1``, ``acc/top5``, as
fractions) plus ``data_time``, ``time`` and ``step`` (the epoch when
logging by epoch); training lines carry ``iter``. A work dir with several
timestamps (a resumed training) is read as one run, in timestamp order.

Epochs are counted as MMEngine does: the number of epochs completed when
the evaluation ran (the official 0-based ``Epoch: [e]`` gives e + 1; an
evaluation before any training step is epoch 0).
"""
import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

_PREFIX = re.compile(r'^\[\d\d/\d\d \d\d:\d\d:\d\d\] \S+ [A-Z]+: ?(.*)$')
_EPOCH = re.compile(r'^Epoch: \[(\d+)\]\[\d+/\d+\]')
_TOP1 = re.compile(r'^Testing Results: Prec@1 ([\d.]+) Prec@5 ([\d.]+)\s*$')
_MAP = re.compile(r'^Testing Results mAP === ([\d.]+)\s*$')
_FUSION = re.compile(r'^a==([\d.]+) b==([\d.]+) top1==([\d.]+) '
                     r'top5==([\d.]+)\s*$')
_TOP1_SUFFIXES = ('/top1',)
_MAP_SUFFIXES = ('/mean_average_precision', '/mAP')

PathLike = Union[str, Path]


class LogParseError(ValueError):
    """A log that cannot be read; the message names the file (and line)."""


@dataclass(frozen=True)
class EvalRecord:
    """One validation result (percent)."""
    epoch: int
    value: float
    top5: Optional[float]
    line: int


@dataclass(frozen=True)
class Summary:
    """Last and best validation figure of a run."""
    metric: str
    last: float
    best: float
    best_epoch: int
    last_epoch: int
    evaluations: int


@dataclass
class Run:
    """One training run: its config and validation records in log order."""
    index: int
    config: Dict[str, Any]
    config_line: int
    metric: Optional[str] = None  # 'top1' or 'mAP'; None without records
    records: List[EvalRecord] = field(default_factory=list)
    resumes: int = 0
    note: str = ''

    def summary(self) -> Summary:
        if not self.records:
            raise LogParseError(f'run {self.index} has no validation results')
        best = max(self.records, key=lambda record: record.value)
        last = self.records[-1]
        return Summary(metric=self.metric, last=last.value, best=best.value,
                       best_epoch=best.epoch, last_epoch=last.epoch,
                       evaluations=len(self.records))


@dataclass(frozen=True)
class FusionResult:
    """A fused-score result line; weights named as printed (``a``, ``b``)."""
    weights: Dict[str, float]
    top1: float
    top5: float
    line: int


@dataclass
class TrainingLog:
    """A parsed log file (or MMEngine work dir)."""
    path: Path
    kind: str  # 'official' or 'mmengine'
    runs: List[Run]
    fusions: List[FusionResult] = field(default_factory=list)

    @property
    def config(self) -> Dict[str, Any]:
        """The config of a single-run log."""
        return self._single_run().config

    def summary(self) -> Summary:
        """Last and best figure of a single-run log."""
        return self._single_run().summary()

    def _single_run(self) -> Run:
        if len(self.runs) != 1:
            raise LogParseError(f'{self.path}: holds {len(self.runs)} runs; '
                                'pick one from .runs')
        return self.runs[0]


def _fail(path: Path, line: int, message: str) -> LogParseError:
    return LogParseError(f'{path}:{line}: {message}')


def _read_config(path: Path, lines: List[str], start: int, first: str
                 ) -> Tuple[Dict[str, Any], int]:
    """The dict printed at ``lines[start]``; returns it and the next index."""
    end = start + 1
    while end < len(lines) and not _PREFIX.match(lines[end]):
        end += 1
    text = '\n'.join([first] + lines[start + 1:end])
    try:
        config = ast.literal_eval(text)
    except (ValueError, SyntaxError) as error:
        raise _fail(path, start + 1, f'config dict does not parse: '
                    f'{error}') from error
    if not isinstance(config, dict):
        raise _fail(path, start + 1, 'config is not a dict')
    return config, end


def parse_official_log(path: PathLike) -> TrainingLog:
    """Parse an official BIKE training log.

    Raises:
        LogParseError: the file has no config or no validation line, or a
            ``Testing Results`` line of an unknown form.
    """
    path = Path(path)
    lines = path.read_text(encoding='utf-8', errors='replace').splitlines()
    runs: List[Run] = []
    fusions: List[FusionResult] = []
    train_epoch: Optional[int] = None  # last 0-based epoch of this launch
    index = 0
    while index < len(lines):
        number, match = index + 1, _PREFIX.match(lines[index])
        message = match.group(1) if match else None
        if message is not None and message.startswith('{'):
            config, index = _read_config(path, lines, index, message)
            train_epoch = None
            if config.get('resume') and runs:
                runs[-1].resumes += 1
            else:
                runs.append(Run(index=len(runs) + 1, config=config,
                                config_line=number))
            continue
        index += 1
        if message is None:
            fusion = _FUSION.match(lines[index - 1])
            if fusion:
                a, b, top1, top5 = map(float, fusion.groups())
                fusions.append(FusionResult({'a': a, 'b': b}, top1, top5,
                                            number))
            continue
        epoch = _EPOCH.match(message)
        if epoch:
            train_epoch = int(epoch.group(1))
            continue
        if 'Testing Results' not in message:
            continue
        top1, mean_ap = _TOP1.match(message), _MAP.match(message)
        if not (top1 or mean_ap):
            raise _fail(path, number, f'unknown result line: {message!r}')
        if not runs:
            raise _fail(path, number, 'validation result before any config')
        run = runs[-1]
        metric = 'top1' if top1 else 'mAP'
        if run.metric not in (None, metric):
            raise _fail(path, number, f'{metric} result in a {run.metric} '
                        'run')
        run.metric = metric
        if metric == 'mAP':
            run.note = 'mAP as printed by the official code (docs/method.md#metrics)'
        run.records.append(EvalRecord(
            epoch=0 if train_epoch is None else train_epoch + 1,
            value=float((top1 or mean_ap).group(1)),
            top5=float(top1.group(2)) if top1 else None, line=number))
    if not runs:
        raise LogParseError(f'{path}: no config dict found - not an official '
                            'BIKE training log')
    if not any(run.records for run in runs):
        raise LogParseError(f'{path}: no validation lines ("Testing '
                            'Results ...")')
    return TrainingLog(path=path, kind='official', runs=runs, fusions=fusions)


def _metric_keys(path: Path, keys: set, metric_key: Optional[str]
                 ) -> Tuple[str, str, Optional[str]]:
    """(metric name, key, top-5 key or None) for the validation lines."""
    if metric_key is not None:
        if metric_key not in keys:
            raise LogParseError(f'{path}: no validation line has '
                                f'{metric_key!r}; keys: {sorted(keys)}')
        chosen = metric_key
    else:
        for suffixes in (_TOP1_SUFFIXES, _MAP_SUFFIXES):
            found = sorted(k for k in keys if k.endswith(suffixes))
            if len(found) > 1:
                raise LogParseError(f'{path}: several metric keys {found}; '
                                    'choose one with metric_key')
            if found:
                chosen = found[0]
                break
        else:
            raise LogParseError(f'{path}: no validation metric (a key ending '
                                f'in {_TOP1_SUFFIXES + _MAP_SUFFIXES})')
    name = 'mAP' if chosen.endswith(_MAP_SUFFIXES) else 'top1'
    top5 = chosen[:-len('top1')] + 'top5' if chosen.endswith('top1') else None
    return name, chosen, top5 if top5 in keys else None


def _scalar_lines(path: Path) -> List[Tuple[Path, int, dict]]:
    """(file, line number, entry) of the validation lines of one scalars.json."""
    found = []
    for number, text in enumerate(
            path.read_text(encoding='utf-8').splitlines(), 1):
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
        except json.JSONDecodeError as error:
            raise _fail(path, number, f'not JSON: {error}') from error
        if not isinstance(entry, dict) or 'step' not in entry:
            raise _fail(path, number, 'not an MMEngine scalars entry (a JSON '
                        'object with "step")')
        # Training entries carry the iteration; validation entries do not.
        if 'iter' not in entry and any('/' in key for key in entry):
            found.append((path, number, entry))
    return found


def find_scalars(work_dir: PathLike) -> List[Path]:
    """The scalars.json files of an MMEngine work dir, oldest first."""
    work_dir = Path(work_dir)
    direct = work_dir / 'vis_data' / 'scalars.json'
    files = [direct] if direct.is_file() else sorted(
        work_dir.glob('*/vis_data/scalars.json'))
    if not files:
        raise LogParseError(f'{work_dir}: no <timestamp>/vis_data/'
                            'scalars.json (not an MMEngine work dir?)')
    return files


def parse_mmengine_log(path: PathLike, metric_key: Optional[str] = None
                       ) -> TrainingLog:
    """Parse a scalars.json, or every scalars.json of a work dir.

    Args:
        path: a ``scalars.json`` or an MMEngine work dir.
        metric_key: the validation key to read (e.g. ``acc/top1``); by
            default the one key ending in ``/top1``, else in
            ``/mean_average_precision`` or ``/mAP``.

    Fractions (all values <= 1, as MMAction2's AccMetric writes them) are
    scaled to percent; ``Run.note`` says so.
    """
    path = Path(path)
    files = find_scalars(path) if path.is_dir() else [path]
    entries = [item for file in files for item in _scalar_lines(file)]
    if not entries:
        raise LogParseError(f'{path}: no validation lines (entries with a '
                            'metric key such as "acc/top1")')
    keys = set().union(*(entry for _, _, entry in entries))
    metric, key, top5_key = _metric_keys(path, keys, metric_key)
    values = []
    for file, number, entry in entries:
        if not isinstance(entry.get(key), (int, float)):
            raise _fail(file, number, f'validation line without {key!r}')
        values.append(float(entry[key]))
    scale = 100.0 if max(values) <= 1.0 else 1.0
    run = Run(index=1, config={}, config_line=0, metric=metric,
              resumes=len(files) - 1)
    notes = [f'{key}']
    if scale != 1.0:
        notes.append('fractions scaled to %')
    if len(files) > 1:
        notes.append(f'{len(files)} launches')
    run.note = ', '.join(notes)
    for (file, number, entry), value in zip(entries, values):
        top5 = entry.get(top5_key) if top5_key else None
        run.records.append(EvalRecord(
            epoch=int(entry.get('epoch', entry['step'])), value=value * scale,
            top5=None if top5 is None else float(top5) * scale, line=number))
    return TrainingLog(path=path, kind='mmengine', runs=[run])


def load_training_log(path: PathLike, metric_key: Optional[str] = None
                      ) -> TrainingLog:
    """Official text log, MMEngine ``scalars.json`` or MMEngine work dir."""
    path = Path(path)
    if not path.exists():
        raise LogParseError(f'{path}: no such file or directory')
    if path.is_dir() or path.suffix == '.json':
        return parse_mmengine_log(path, metric_key)
    return parse_official_log(path)
