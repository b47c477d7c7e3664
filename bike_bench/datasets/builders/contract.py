"""The build contract: what every build is checked for before anything is
written, whichever builder made it.

- **counts**: each manifest's entries plus its dropped records equal the
  records its source holds for it (the summary's ``expected``);
- **classes with entries**: a class of a manifest with no entries is
  reported with the manifests of the same class table where it does have
  entries (a class in one split only) and the closest source label that
  is not a class (a respelled or renamed class); an error where the build
  needs every class (``every_class``: a protocol's fixed class set, the
  Kinetics-600 zero-shot splits), else a warning;
- **labels**: in a class table made from the labels themselves (no table
  given), two names that differ only in spacing or case, or a rare name
  close to a frequent one (``cartoon rabit`` beside ``cartoon rabbit``) are
  reported as a likely typo that became a class of its own;
- **files**: entries whose video file or frame folder is absent are counted
  and listed (``manifests/<name>.missing.txt``).

Labels missing from a given class table are errors raised by the builders
themselves (``labels.LabelMatcher``), with the closest class named.
"""
from __future__ import annotations

import collections
import difflib
import os
from typing import Dict, List

from bike_bench.datasets.builders.labels import closest, spelling_key
from bike_bench.datasets.builders.result import BuildResult, BuiltManifest

# A derived class name this close to another (difflib ratio) ...
TYPO_CUTOFF = 0.85
# ... and at most this fraction of its entries is reported as a likely typo.
TYPO_RATIO = 0.2
SHOWN = 5  # classes / paths named one by one in a message


def check_build(result: BuildResult, out_dir: str, data_root: str = '..') -> None:
    """Add the contract's issues to ``result.issues`` and the absent entries
    to ``result.absent``.

    Args:
        out_dir: the dataset folder the manifests go to (``manifests/``
            inside it); entry paths resolve from ``data_root`` there.
    """
    _check_counts(result)
    _check_classes(result)
    _check_derived_names(result)
    _check_files(result, out_dir, data_root)


def _check_counts(result: BuildResult) -> None:
    for built in result.manifests:
        dropped = sum(d.manifest == built.name for d in result.dropped)
        entries = len(built.manifest.entries)
        if entries + dropped != built.expected:
            result.note('error', 'counts', built.name,
                        f'the source holds {built.expected} records for it, but '
                        f'{entries} became entries and {dropped} were left out '
                        f'({built.expected - entries - dropped} unaccounted for)')


def _counts(built: BuiltManifest) -> Dict[int, int]:
    counts: Dict[int, int] = collections.Counter()
    for entry in built.manifest.entries:
        for label in entry.labels:
            counts[label] += 1
    return counts


def _by_table(result: BuildResult) -> Dict[str, List[BuiltManifest]]:
    groups: Dict[str, List[BuiltManifest]] = {}
    for built in result.manifests:
        groups.setdefault(built.class_table, []).append(built)
    return groups


def _check_classes(result: BuildResult) -> None:
    groups = _by_table(result)
    for built in result.manifests:
        counts = _counts(built)
        classes = built.manifest.classes
        empty = [i for i in range(len(classes)) if not counts.get(i)]
        if not empty:
            continue
        severity = 'error' if built.every_class else 'warning'
        others = [(o.name, _counts(o)) for o in groups[built.class_table] if o is not built]
        other_labels = result.other_labels.get(built.name, {})
        for class_id in empty[:SHOWN]:
            name = classes[class_id]
            text = f'class {name!r} (id {class_id} of {len(classes)}) has no entries'
            elsewhere = [f'{n} {c[class_id]}' for n, c in others if c.get(class_id)]
            if elsewhere:
                text += f'; it has entries only in other splits ({", ".join(elsewhere)})'
            near = closest(name, other_labels)
            if near is not None:
                rows = other_labels[near]
                text += (f'; closest source label that is not a class: {near!r} '
                         f'({rows} row{"s" if rows != 1 else ""})')
            if built.every_class:
                text += ('; every class of this manifest needs entries: fix the '
                         'name in the class table or in the source')
            result.note(severity, 'empty_class', built.name, text)
        if len(empty) > SHOWN:
            result.note(severity, 'empty_class', built.name,
                        f'{len(empty) - SHOWN} more classes have no entries '
                        f'({len(classes) - len(empty)} of {len(classes)} covered)')


def _first_line(built: BuiltManifest, class_id: int) -> str:
    for entry in built.manifest.entries:
        if class_id in entry.labels:
            if entry.source_line and len(built.source_files) >= 1:
                return f'{os.path.basename(built.source_files[0])}:{entry.source_line}'
            return entry.path
    return ''


def _check_derived_names(result: BuildResult) -> None:
    for table, group in _by_table(result).items():
        if not any(b.classes_derived for b in group):
            continue
        classes = group[0].manifest.classes
        total: Dict[int, int] = collections.Counter()
        present: Dict[int, set] = collections.defaultdict(set)
        for built in group:
            for class_id, count in _counts(built).items():
                total[class_id] += count
                present[class_id].add(built.name)
        index = {name: i for i, name in enumerate(classes)}
        reported = set()
        by_key: Dict[str, List[str]] = collections.defaultdict(list)
        for name in classes:
            by_key[spelling_key(name)].append(name)
        for names in by_key.values():
            if len(names) > 1:
                reported.update(names)
                result.note('warning', 'near_duplicate_label', group[0].name,
                            'labels ' + ' and '.join(repr(n) for n in names) +
                            ' differ only in spacing or case and became '
                            f'{len(names)} classes of {table}; fix the labels in the '
                            'source or give the class table (--classes FILE)')
        for name in classes:
            if name in reported:
                continue
            rare = index[name]
            others = [n for n in classes if n != name]
            match = difflib.get_close_matches(name, others, n=1, cutoff=TYPO_CUTOFF)
            if not match:
                continue
            common = index[match[0]]
            fewer = total[rare] <= TYPO_RATIO * total[common]
            narrower = present[rare] < present[common]
            if not (fewer or narrower):
                continue
            reported.add(name)
            where = next((b for b in group if _counts(b).get(rare)), group[0])
            line = _first_line(where, rare)
            result.note('warning', 'near_duplicate_label', where.name,
                        f'label {name!r} ({total[rare]} entr'
                        f'{"y" if total[rare] == 1 else "ies"}'
                        + (f', e.g. {line}' if line else '') +
                        f') is close to {match[0]!r} ({total[common]} entries): a '
                        f'typo? It became class {rare} of {len(classes)} in {table}; '
                        'fix the label in the source or give the class table '
                        '(--classes FILE)')


def entry_root(out_dir: str, data_root: str) -> str:
    """The folder entry paths resolve from, for manifests in ``out_dir/manifests``."""
    if os.path.isabs(data_root):
        return data_root
    return os.path.normpath(os.path.join(out_dir, 'manifests', data_root))


def absent_paths(built: BuiltManifest, root: str) -> List[str]:
    """Entry paths whose file (or frame folder) does not exist under ``root``."""
    missing = []
    for entry in built.manifest.entries:
        location = entry.path if os.path.isabs(entry.path) else os.path.join(root, entry.path)
        exists = os.path.isdir(location) if entry.is_frame_folder else os.path.isfile(location)
        if not exists:
            missing.append(entry.path)
    return missing


def _check_files(result: BuildResult, out_dir: str, data_root: str) -> None:
    root = entry_root(out_dir, data_root)
    for built in result.manifests:
        missing = list(dict.fromkeys(absent_paths(built, root)))
        if not missing:
            continue
        result.absent[built.name] = missing
        total = len({e.path for e in built.manifest.entries})
        shown = ', '.join(missing[:3])
        text = (f'{len(missing)} of {total} entries have no file under {root} '
                f'(e.g. {shown})')
        if len(missing) == total:
            text += ' (media not in place yet? `manifests check` verifies them later)'
        result.note('warning', 'missing_files', built.name, text)
