"""The attributes JSON (official layout) and the sentences built from it.

The main file is exactly the official release's layout, one entry per video
keyed by the video's manifest ``path``::

    {"abseiling/xyz.mp4": {"classname_topk": ["abseiling", "rock climbing", ...],
                           "scores": [0.31, 0.29, ...]}, ...}

``scores`` (the cosine of each phrase, bike-bench's addition) is an extra
per-entry key, which the official reader ignores. How the file was made
(CLIP, lexicon, prompt, k, manifest) is in a sidecar ``<file>.meta.json``, so
the main file stays a plain ``{path: entry}`` mapping.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Sequence

SENTENCE_PREFIX = 'This is a video about '
PHRASES_KEY = 'classname_topk'
SCORES_KEY = 'scores'
META_SUFFIX = '.meta.json'


class AttributesFileError(ValueError):
    """A malformed attributes file or a missing entry; names file and video."""


def build_sentence(phrases: Sequence[str], topk: Optional[int] = None,
                   prefix: str = SENTENCE_PREFIX, separator: str = ',') -> str:
    """``prefix + separator.join(phrases[:topk])`` (docs/method.md#attributes)."""
    chosen = list(phrases) if topk is None else list(phrases)[:topk]
    return prefix + separator.join(chosen)


def meta_path(path: str) -> str:
    return path + META_SUFFIX


def _load_json(path: str) -> Any:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'attributes file not found: {path} (make it '
                                'with `bike-bench attributes generate`)')
    with open(path, 'r', encoding='utf-8') as handle:
        try:
            return json.load(handle)
        except json.JSONDecodeError as error:
            raise AttributesFileError(
                f'{path}:{error.lineno}: not valid JSON ({error.msg})') from None


def check_entry(path: str, key: str, entry: Any) -> None:
    """An entry holds a non-empty list of phrase strings (and maybe scores)."""
    if not isinstance(entry, dict) or PHRASES_KEY not in entry:
        raise AttributesFileError(f'{path}: entry {key!r} has no '
                                  f'"{PHRASES_KEY}" list')
    phrases = entry[PHRASES_KEY]
    if not isinstance(phrases, list) or not phrases or not all(
            isinstance(p, str) for p in phrases):
        raise AttributesFileError(f'{path}: entry {key!r}: "{PHRASES_KEY}" '
                                  'must be a non-empty list of strings')
    scores = entry.get(SCORES_KEY)
    if scores is not None and (not isinstance(scores, list)
                               or len(scores) != len(phrases)):
        raise AttributesFileError(f'{path}: entry {key!r}: "{SCORES_KEY}" '
                                  f'must list one score per phrase')


def read_attributes(path: str) -> Dict[str, dict]:
    """Read and check an attributes file (official layout)."""
    data = _load_json(path)
    if not isinstance(data, dict):
        raise AttributesFileError(f'{path}: expected a JSON object mapping '
                                  'video paths to entries')
    for key, entry in data.items():
        check_entry(path, key, entry)
    return data


def read_meta(path: str) -> Optional[dict]:
    """The sidecar metadata of an attributes file, or ``None`` if absent."""
    sidecar = meta_path(path)
    if not os.path.isfile(sidecar):
        return None
    meta = _load_json(sidecar)
    if not isinstance(meta, dict):
        raise AttributesFileError(f'{sidecar}: expected a JSON object')
    return meta
