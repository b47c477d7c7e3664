"""Source labels given as names, matched against a class table.

A label is its class when it is spelled exactly as in the table. A label
that differs only in spacing or letter case (``passing American  football``
beside ``passing american football``: real Kinetics CSVs and class tables
disagree like this, see SwinTransformer/Video-Swin-Transformer's K600
issues and microsoft/VideoX#128) is matched too, and every such match is
reported. Anything else is unknown; the report names the closest class
(``difflib``), never picks it.
"""
from __future__ import annotations

import collections
import difflib
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

# How close a name must be to be offered as "closest" (difflib ratio).
SUGGEST_CUTOFF = 0.6


def spelling_key(name: str) -> str:
    """``name`` with runs of white space (and ``_``, as in class folder
    names) made one space, case folded."""
    return ' '.join(str(name).replace('_', ' ').split()).casefold()


def closest(name: str, candidates: Iterable[str],
            cutoff: float = SUGGEST_CUTOFF) -> Optional[str]:
    """The candidate most like ``name`` (difflib), or None."""
    found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def closest_hint(name: str, candidates: Iterable[str]) -> str:
    """``" (closest: 'x')"`` or ``''``."""
    near = closest(name, candidates)
    return f' (closest: {near!r})' if near is not None else ''


class LabelMatcher:
    """Class ids of source labels given as names.

    Args:
        classes: the class table's names, by id.
        table: how to name the table in messages (its file).

    ``respelled`` collects ``(table name, source spelling) -> rows`` of the
    labels matched by :func:`spelling_key` only; ``unknown`` ``label ->
    [lines]`` of labels that match nothing.
    """

    def __init__(self, classes: Sequence[str], table: str):
        self.classes = list(classes)
        self.table = table
        self.index = {name: i for i, name in enumerate(self.classes)}
        self.by_key: Dict[str, int] = {}
        for i, name in enumerate(self.classes):
            self.by_key.setdefault(spelling_key(name), i)
        self.respelled: Dict[Tuple[str, str], int] = collections.Counter()
        self.unknown: Dict[str, List[int]] = {}

    def match(self, label: str, line: int = 0) -> Optional[int]:
        """The class id of ``label``, or None (recorded in ``unknown``)."""
        if label in self.index:
            return self.index[label]
        class_id = self.by_key.get(spelling_key(label))
        if class_id is not None:
            self.respelled[(self.classes[class_id], label)] += 1
            return class_id
        self.unknown.setdefault(label, []).append(line)
        return None

    def _describe(self, name: str, lines: List[int]) -> str:
        parts = [f'line {lines[0]}'] if lines[0] else []
        near = closest(name, self.classes)
        if near is not None:
            parts.append(f'closest: {near!r}')
        return repr(name) + (f' ({", ".join(parts)})' if parts else '')

    def unknown_message(self, path: str, what: str = 'label', limit: int = 5) -> str:
        """One line naming the first unknown label (``path:line`` when its
        line is known), its closest class, and the other unknown labels."""
        items = list(self.unknown.items())
        label, lines = items[0]
        where = f'{path}:{lines[0]}' if lines[0] else path
        text = (f'{where}: {what} {label!r} is not in the class table '
                f'{self.table}{closest_hint(label, self.classes)}')
        if len(lines) > 1:
            text += f' ({len(lines)} rows)'
        rest = items[1:]
        if rest:
            shown = ', '.join(self._describe(name, where) for name, where in rest[:limit])
            more = f' and {len(rest) - limit} more' if len(rest) > limit else ''
            text += f'; also unknown: {shown}{more}'
        return text

    def respelled_messages(self) -> List[str]:
        return [f'class {name!r} of {self.table} is spelled {source!r} in the '
                f'source ({rows} row{"s" if rows != 1 else ""}); matched ignoring '
                'spacing and case'
                for (name, source), rows in self.respelled.items()]
