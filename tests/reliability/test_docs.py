"""Group 6: docs/reliability.md says what each fault does, and its options
and file names are the ones the code has."""
from __future__ import annotations

import re

import pytest

from bike_bench.cli.main import build_parser
from bike_bench.evaluation.skipping import SKIPPED_FILE

from .conftest import REPO

DOC = REPO / 'docs' / 'reliability.md'


def options(command: str) -> set:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == 'command').choices[command]
    return {flag for action in sub._actions for flag in action.option_strings}


@pytest.fixture(scope='module')
def table():
    text = DOC.read_text()
    header = '| fault | what happens | what the user sees | what is recorded |'
    assert header in text
    lines = text.splitlines()
    rows = []
    for line in lines[lines.index(header) + 2:]:
        if not line.startswith('|'):
            break  # the fault table ends at its first non-table line
        rows.append(line)
    return text, rows


def test_every_group_has_rows_with_all_four_columns(table):
    _, rows = table
    assert all(len(row.strip('|').split(' | ')) == 4 for row in rows)
    joined = '\n'.join(rows)
    for group in ('training video', 'evaluation', 'annotations', 'SIGKILL',
                  'NaN or inf loss', 'pickled objects', 'several ranks', 'segment',
                  'file modes', 'training classes', 'another architecture',
                  'without duration'):
        assert group in joined, group


def test_the_options_and_files_it_names_exist(table):
    text, _ = table
    assert SKIPPED_FILE in text
    named = set(re.findall(r'`[^`\n]*?(--[a-z][a-z-]*)', text))
    assert named == {'--fail-on-bad-videos', '--skip-bad-videos', '--trust-checkpoint',
                     '--resume', '--probe-decode', '--skip-missing', '--train-manifest',
                     '--keep-stale', '--out', '--dump', '--launcher', '--min-coverage',
                     '--data-root', '--work-dir', '--resume-from', '--verbose'}
    assert {'--min-coverage'} <= options('test') & options('zeroshot') & options('reproduce')
    assert {'--data-root'} <= options('reproduce')
    assert {'--work-dir', '--resume-from'} <= options('train')
    assert {'--train-manifest'} <= options('fewshot')
    assert {'--keep-stale'} <= options('reproduce')
    assert {'--out', '--dump', '--launcher'} <= options('test')
    assert '--launcher' in options('train')
    assert {'--fail-on-bad-videos', '--trust-checkpoint', '--resume'} <= options('train')
    assert {'--skip-bad-videos', '--trust-checkpoint'} <= options('test')
    assert {'--skip-bad-videos', '--trust-checkpoint'} <= options('zeroshot')
    assert '--trust-checkpoint' in options('convert')
