"""Build step: ship the configs, dataset specs and paper figures in the wheel.

The repository keeps ``mmconfigs/``, ``manifests/`` and ``results/paper/`` at
its top level (where users and tests edit them); building copies them into
``bike_bench/.mim/`` of the built package, with the same relative layout, the
way MMAction2 ships its configs under ``mmaction/.mim``. ``bike_bench.paths``
finds them there after a regular install, and in the checkout otherwise.
Everything else is declared in ``pyproject.toml``.
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ('mmconfigs', 'manifests', os.path.join('results', 'paper'),
           os.path.join('results', 'toy_clip'))
IGNORE = shutil.ignore_patterns('__pycache__', '*.pyc', '*.jsonl')


class BuildWithPackageData(build_py):
    """``build_py`` that also copies the shipped folders into the package."""

    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads the checkout
            return
        here = os.path.dirname(os.path.abspath(__file__))
        target = os.path.join(self.build_lib, 'bike_bench', '.mim')
        for folder in SHIPPED:
            source = os.path.join(here, folder)
            if not os.path.isdir(source):
                raise FileNotFoundError(f'{source} is missing; cannot build '
                                        'the package data')
            destination = os.path.join(target, folder)
            if os.path.isdir(destination):
                shutil.rmtree(destination)
            shutil.copytree(source, destination, ignore=IGNORE)


setup(cmdclass={'build_py': BuildWithPackageData})
