"""The results files of ``reproduce``: whether a run is done, stale or
changed, and writing one with its ``reproduce`` section and, beside it, the
config file that ran."""
from __future__ import annotations

import os
from typing import Dict, Optional, Sequence

from bike_bench.evaluation.provenance import code_identity
from bike_bench.evaluation.results import write_results
from bike_bench.paths import display_path, resolve_recorded
from bike_bench.utils.atomic import atomic_write_text


def previous_state(done: Optional[dict], keys: Dict[str, str]) -> str:
    """``'absent'``, ``'current'`` (same run key), ``'stale'`` (the same
    experiment measured with other code, or by a version that recorded no
    code identity) or ``'changed'`` (other config, data or checkpoint)."""
    if not done:
        return 'absent'
    section = done.get('reproduce', {})
    if section.get('key') == keys['run_key']:
        return 'current'
    if section.get('inputs_key') in (None, keys['inputs_key']):
        return 'stale'
    return 'changed'


def measured_with(done: dict) -> str:
    """``commit X and other code (changed: <files>)``: where a stale run
    was measured and which files have changed since (their hashes in its
    ``environment.code.files``)."""
    from bike_bench.evaluation.provenance import describe_code_change
    env = done.get('environment', {})
    return (f'commit {str(env.get("git_commit"))[:10]} and '
            f'{describe_code_change(env.get("code") or {})}')


def keep_configs(data: dict, path: str) -> None:
    """Copy the config files that ran beside the results file ``path``.

    ``<stem>.py`` (and ``<stem>.pass<N>.py`` for further zero-shot passes);
    ``config.path`` then names the copy, ``config.written`` the file in the
    work dir that the Runner read. The copy is byte for byte the same file.
    """
    config = data['config']
    stem = os.path.splitext(path)[0]
    ran = [config['path']] + list(config.get('passes', [])[1:])
    kept = []
    for number, source in enumerate(ran, start=1):
        target = f'{stem}.py' if number == 1 else f'{stem}.pass{number}.py'
        atomic_write_text(target, open(resolve_recorded(source), encoding='utf-8').read())
        kept.append(display_path(target))
    config['written'] = config['path']
    config['path'] = kept[0]
    if 'passes' in config:
        config['passes'] = kept


def finish(results: dict, path: str, *, keys: Dict[str, str], scale: str,
            entries: Sequence, twin: Optional[str]) -> None:
    """Add the reproduce section and write the results file atomically."""
    data = {k: v for k, v in results.items() if k != 'path'}
    data['config'] = dict(data['config'])
    keep_configs(data, path)
    # One run id per results file (few-shot runs of different datasets share
    # the protocol's own "fewshot_<K>shot_seed<S>").
    data['protocol'] = dict(data['protocol'], run_id=data['run_id'])
    data['run_id'] = twin or entries[0].id
    data['reproduce'] = dict(
        key=keys['run_key'], inputs_key=keys['inputs_key'],
        code=code_identity()['hash'], scale=scale, twin=twin,
        experiments=[e.id for e in entries],
        paper_rows=[dict(table=r.table, row=r.row, metrics=r.metrics,
                         experiment=e.id, views=e.views)
                    for e in entries for r in e.paper_rows])
    write_results(data, path)
