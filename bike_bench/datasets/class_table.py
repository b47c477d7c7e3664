"""Class tables: the ``id,name`` list every dataset's labels refer to.

Formats read:
- CSV with an ``id,name`` header (the official BIKE lists; names may be
  quoted and contain commas, parentheses and quotes);
- ``Charades_v1_classes.txt`` style lines ``c000 Holding some clothes``;
- UCF-101 ``classInd.txt`` style lines ``1 ApplyEyeMakeup`` (every line an
  integer id, a space and a name; ids contiguous from 0 or from 1);
- plain text, one name per line (ids are line order).
UTF-8 BOMs, CRLF line endings and trailing spaces are tolerated; anything
else that is off (a missing name, duplicate or non-contiguous ids) is an
error naming the file and line.
"""
from __future__ import annotations

import csv
import io
import os
import re
from typing import List, Sequence, Union

_CHARADES_LINE = re.compile(r'^c(\d{3})\s+(.+)$')
_INDEX_LINE = re.compile(r'^(\d+)\s+(\S.*)$')


class ClassTableError(ValueError):
    """A malformed class table; the message names the file and line."""


def _read_text(path: str) -> str:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'class table not found: {path}')
    with open(path, 'r', encoding='utf-8-sig', newline='') as handle:
        return handle.read()


def read_class_table(path: str) -> List[str]:
    """Class names indexed by class id."""
    text = _read_text(path)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), '')
    if not first:
        raise ClassTableError(f'{path}: empty class table')
    header = [cell.strip().lower() for cell in next(csv.reader([first]))]
    if header[:2] == ['id', 'name']:
        return _read_id_name_csv(path, text)
    if _CHARADES_LINE.match(first.strip()):
        return _read_charades_classes(path, lines)
    if all(_INDEX_LINE.match(line.strip()) for line in lines if line.strip()):
        return _read_index_lines(path, lines)
    names = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            names.append(line.strip())
        elif number < len(lines):
            raise ClassTableError(f'{path}:{number}: blank line inside the '
                                  'class list')
    return _check_unique(path, names)


def _read_id_name_csv(path: str, text: str) -> List[str]:
    reader = csv.reader(io.StringIO(text))
    by_id = {}
    for number, row in enumerate(reader, start=1):
        if number == 1 or not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise ClassTableError(f'{path}:{number}: expected `id,name`, got '
                                  f'{",".join(row)!r}')
        # Unquoted names with commas: everything after the id is the name.
        raw_id, name = row[0].strip(), ','.join(row[1:]).strip()
        if not raw_id.lstrip('-').isdigit():
            raise ClassTableError(f'{path}:{number}: class id {raw_id!r} is '
                                  'not an integer')
        if not name:
            raise ClassTableError(f'{path}:{number}: class {raw_id} has no name')
        class_id = int(raw_id)
        if class_id in by_id:
            raise ClassTableError(f'{path}:{number}: duplicate class id '
                                  f'{class_id}')
        by_id[class_id] = name
    return _contiguous(path, by_id)


def _read_charades_classes(path: str, lines: Sequence[str]) -> List[str]:
    by_id = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _CHARADES_LINE.match(line.strip())
        if not match:
            raise ClassTableError(f'{path}:{number}: expected `cNNN name`, '
                                  f'got {line.strip()!r}')
        class_id = int(match.group(1))
        if class_id in by_id:
            raise ClassTableError(f'{path}:{number}: duplicate class id '
                                  f'c{class_id:03d}')
        by_id[class_id] = match.group(2).strip()
    return _contiguous(path, by_id)


def _read_index_lines(path: str, lines: Sequence[str]) -> List[str]:
    by_id = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _INDEX_LINE.match(line.strip())
        class_id = int(match.group(1))
        if class_id in by_id:
            raise ClassTableError(f'{path}:{number}: duplicate class id {class_id}')
        by_id[class_id] = match.group(2).strip()
    if by_id and min(by_id) == 1:  # classInd.txt counts from 1
        by_id = {class_id - 1: name for class_id, name in by_id.items()}
    return _contiguous(path, by_id)


def _contiguous(path: str, by_id: dict) -> List[str]:
    if not by_id:
        raise ClassTableError(f'{path}: no classes')
    expected = set(range(len(by_id)))
    if set(by_id) != expected:
        missing = sorted(expected - set(by_id))[:5]
        raise ClassTableError(f'{path}: class ids are not 0..{len(by_id) - 1}'
                              f' (missing e.g. {missing})')
    return _check_unique(path, [by_id[i] for i in range(len(by_id))])


def _check_unique(path: str, names: List[str]) -> List[str]:
    seen = {}
    for index, name in enumerate(names):
        if name in seen:
            raise ClassTableError(f'{path}: class name {name!r} appears twice '
                                  f'(ids {seen[name]} and {index})')
        seen[name] = index
    return names


def write_class_table(path: str, names: Sequence[str]) -> None:
    """Write ``id,name`` CSV (names quoted where needed)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='') as handle:
        writer = csv.writer(handle, lineterminator='\n')
        writer.writerow(['id', 'name'])
        for index, name in enumerate(names):
            writer.writerow([index, name])


ClassSource = Union[str, Sequence[str]]


def resolve_class_names(source: ClassSource) -> List[str]:
    """Class names from a table path or an explicit list."""
    if isinstance(source, str):
        return read_class_table(source)
    names = [str(name) for name in source]
    if not names:
        raise ClassTableError('empty class-name list')
    return names
