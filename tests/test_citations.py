"""Comments and docstrings cite what a reader of the repository can open:
its own docs (``docs/method.md#anchor``), the paper, the official code or an
upstream report as ``owner/repo#N`` -- never a file outside the repository
or an issue number of this project."""
from __future__ import annotations

import io
import re
import sys
import tokenize
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]

OUTSIDE = [
    re.compile(r'BIKE' r'_SPEC'),                                # the spec file
    re.compile(r'\bspec(ification)?\s*(§|section\s*\d)', re.I),  # "spec §4"
    re.compile(r'(?<!method\.md )§\s*\d'),                       # "§4" of no document here
    re.compile(r'\.\./shared'),                                  # the folder beside the checkout
]
ISSUE_NUMBERS = [
    re.compile(r'\bissues?[\s-]*#?\d+', re.I),                   # "issue 13", "issue-13"
    re.compile(r'(?<![\w/.-])#\d+\b'),                           # "#13" (owner/repo#13 is fine)
]


def _docstring(token: tokenize.TokenInfo) -> bool:
    return re.match(r'[rbuRBU]*("""|\'\'\')', token.string) is not None


def texts(path: Path, runtime_strings: bool) -> Iterator[Tuple[int, str, bool]]:
    """(line, text, is prose) of each comment and string of a Python file;
    only comments and docstrings unless ``runtime_strings``."""
    source = path.read_text(encoding='utf-8')
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string, True
        elif token.type == tokenize.STRING:
            if _docstring(token):
                yield token.start[0], token.string, True
            elif runtime_strings:
                yield token.start[0], token.string, False


def findings(folder: str, runtime_strings: bool) -> List[str]:
    found = []
    root = REPO / folder
    for path in sorted(root.rglob('*.py')):
        if path == Path(__file__).resolve():
            continue
        for line, text, prose in texts(path, runtime_strings):
            patterns = OUTSIDE + (ISSUE_NUMBERS if prose else [])
            for pattern in patterns:
                for match in pattern.finditer(text):
                    number = line + text[:match.start()].count('\n')
                    found.append(f'{path.relative_to(REPO)}:{number}: {match.group(0)!r}')
    for path in sorted(list(root.rglob('*.yml')) + list(root.rglob('*.yaml'))):
        for number, text in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
            comment = text.split('#', 1)[1] if '#' in text else ''
            for pattern in OUTSIDE + ISSUE_NUMBERS[:1]:
                for match in pattern.finditer(comment):
                    found.append(f'{path.relative_to(REPO)}:{number}: {match.group(0)!r}')
    return found


@pytest.mark.parametrize('folder, runtime_strings', [
    ('bike_bench', True),   # every string too: messages and notes are read by users
    ('mmconfigs', True),
    ('tests', False),       # skip messages name where the reference data is looked for
])
def test_no_citation_of_files_outside_the_repository_or_issue_numbers(folder, runtime_strings):
    found = findings(folder, runtime_strings)
    assert not found, 'cite docs/method.md#anchor, the paper or the official code:\n' + \
        '\n'.join(found)


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """Write one module into a stand-in repository that ``findings`` reads."""
    monkeypatch.setattr(sys.modules[__name__], 'REPO', tmp_path)
    (tmp_path / 'bike_bench').mkdir()

    def plant(text: str) -> None:
        (tmp_path / 'bike_bench' / 'module.py').write_text(f'x = 1\n{text}\n')
    return plant


@pytest.mark.parametrize('text', [
    '# the crops of spec §6', '"""As in BIKE' '_SPEC.md."""', '# see ../shared/reference',
    '# fixed in issue 13', '# see #12', "NOTE = 'as printed (spec §7)'"])
def test_a_planted_citation_is_found(planted, text):
    planted(text)
    found = findings('bike_bench', True)
    assert found and all(item.startswith('bike_bench/module.py:2: ') for item in found)


def test_upstream_reports_and_own_docs_are_fine(planted):
    planted('# see microsoft/VideoX#128 and docs/method.md §2, docs/method.md#views\n'
            "COLOR = '#123456'")
    assert findings('bike_bench', True) == []
