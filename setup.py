"""Build step: ship the package data in the wheel.

The repository keeps ``mmconfigs/``, ``manifests/`` and, under ``results/``,
the paper's figures, the toy CLIP, the reference runs and the CI baseline
at its top level (where maintainers edit and regenerate them); building
copies them into ``bike_bench/.mim/`` of the built package, with the same
relative layout, the way MMAction2 ships its configs under ``mmaction/.mim``.
``bike_bench.paths`` finds them there after a regular install, and in the
checkout otherwise; which folders and files ship is its ``SHIPPED``.
Everything else is declared in ``pyproject.toml``.
"""
import importlib.util
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
IGNORE = shutil.ignore_patterns('__pycache__', '*.pyc', '*.jsonl')


def _shipped():
    """``bike_bench.paths.SHIPPED``, read without importing the package."""
    spec = importlib.util.spec_from_file_location(
        '_bike_bench_paths', os.path.join(HERE, 'bike_bench', 'paths.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SHIPPED


class BuildWithPackageData(build_py):
    """``build_py`` that also copies the shipped data into the package."""

    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads the checkout
            return
        target = os.path.join(self.build_lib, 'bike_bench', '.mim')
        for item in _shipped():
            source = os.path.join(HERE, item)
            destination = os.path.join(target, item)
            if os.path.isdir(source):
                if os.path.isdir(destination):
                    shutil.rmtree(destination)
                shutil.copytree(source, destination, ignore=IGNORE)
            elif os.path.isfile(source):
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.copy2(source, destination)
            else:
                raise FileNotFoundError(f'{source} is missing; cannot build '
                                        'the package data')


setup(cmdclass={'build_py': BuildWithPackageData})
