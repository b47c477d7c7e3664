"""Committed run files are portable: no absolute path of the machine that
made them in a results file, a kept config or a shipped config (they are
recorded relative to the output root; README, "Your own dataset")."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ABSOLUTE = re.compile(r"""['"]/(work|home|root|tmp|mnt|data|Users)/""")


@pytest.mark.parametrize('folder', ['results', 'mmconfigs'])
def test_no_absolute_path_in_committed_runs_or_configs(folder):
    found = []
    for path in sorted((REPO / folder).rglob('*')):
        if path.suffix not in ('.json', '.py', '.md', '.csv', '.yml', '.txt') or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors='replace').splitlines(), 1):
            if ABSOLUTE.search(line):
                found.append(f'{path.relative_to(REPO)}:{number}: {line.strip()[:120]}')
    assert not found, '\n'.join(found[:20]) + f'\n({len(found)} lines)'
