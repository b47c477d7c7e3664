"""The package's layers (the import-linter contracts in pyproject.toml):
kept by the code as it is, and broken by an upward import or a circle
planted in a copy of the package."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The `lint-imports` console script, run with this interpreter.
LINT_IMPORTS = ('import sys; from importlinter.cli import lint_imports_command; '
                'sys.exit(lint_imports_command())')


def lint_imports(root: Path):
    """Exit code and output of `lint-imports` on the package under ``root``."""
    try:
        import importlinter  # noqa: F401
    except ImportError:
        pytest.fail('import-linter is not installed (pip install -r requirements.txt)')
    # The package is found first under ``root`` (a copy, or the checkout).
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(root)] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    out = subprocess.run([sys.executable, '-c', LINT_IMPORTS, '--no-cache', 'pyproject.toml'],
                         cwd=root, capture_output=True, text=True, timeout=300, env=env)
    return out.returncode, out.stdout + out.stderr


@pytest.fixture
def copy_of_package(tmp_path):
    shutil.copytree(REPO / 'bike_bench', tmp_path / 'bike_bench',
                    ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy(REPO / 'pyproject.toml', tmp_path / 'pyproject.toml')
    return tmp_path


def plant(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f'\n{line}  # planted\n')


def test_the_package_keeps_its_layers():
    code, text = lint_imports(REPO)
    assert code == 0, text
    assert 'Contracts: 2 kept, 0 broken.' in text


def test_an_upward_import_breaks_the_layers(copy_of_package):
    plant(copy_of_package / 'bike_bench' / 'datasets' / 'manifest.py',
          'import bike_bench.cli')
    code, text = lint_imports(copy_of_package)
    assert code == 1, text
    assert 'bike_bench.datasets is not allowed to import bike_bench.cli' in text
    assert 'bike_bench.datasets.manifest -> bike_bench.cli' in text


def test_a_circle_inside_a_layer_breaks_the_contract(copy_of_package):
    # hashing and atomic import nothing of each other: a circle, no layer crossed.
    utils = copy_of_package / 'bike_bench' / 'utils'
    plant(utils / 'hashing.py', 'import bike_bench.utils.atomic')
    plant(utils / 'atomic.py', 'import bike_bench.utils.hashing')
    code, text = lint_imports(copy_of_package)
    assert code == 1, text
    assert 'No cycles are allowed in bike_bench.utils' in text
    assert 'Layers: each package imports only the layers below it KEPT' in text
