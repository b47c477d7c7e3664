"""What a ``reproduce`` / ``ci-regression`` run is told, in one object.

The command line builds a :class:`ReproduceSettings` from its options and
passes it down; nothing in ``bike_bench.reproduction`` reads the
environment or fixes a folder when it is imported. Every folder defaults to
a place under the user's output root (``bike_bench.paths.output_root``,
read when the settings are built), never to the package data.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Callable, Optional, Tuple

from bike_bench import paths
from bike_bench.protocols import Protocol

# A config transform: edits a config in place (and notes itself with
# ``bike_bench.engine.run_config.derive``).
ConfigTransform = Callable[[object], None]


@dataclasses.dataclass(frozen=True)
class SmokeSettings:
    """How the smoke twins train.

    Attributes:
        train_epochs: epochs of a twin trained from the toy CLIP.
        finetune_epochs: epochs of a twin fine-tuned from a parent twin.
        fewshot_epochs: epochs of each few-shot (shots, seed) run.
        seed: training seed of every twin (``randomness.seed``); the CI
            baseline measures the spread over a few
            (``bike-bench ci-regression --update-baseline --seeds 0 1 2``).
        fewshot_seeds: sampling seeds of the few-shot twins; their figure is
            the mean over these seeds.
    """

    train_epochs: int = 6
    finetune_epochs: int = 4
    fewshot_epochs: int = 4
    seed: int = 0
    fewshot_seeds: Tuple[int, ...] = (0, 1, 2)

    def __post_init__(self):
        for name in ('train_epochs', 'finetune_epochs', 'fewshot_epochs'):
            if int(getattr(self, name)) < 1:
                raise ValueError(f'{name} must be >= 1, got {getattr(self, name)}')
        if not self.fewshot_seeds:
            raise ValueError('fewshot_seeds must name at least one seed')
        object.__setattr__(self, 'fewshot_seeds', tuple(int(s) for s in self.fewshot_seeds))

    @classmethod
    def with_epochs(cls, epochs: Optional[int] = None, **fields) -> 'SmokeSettings':
        """Settings whose three epoch counts are all ``epochs`` (when given);
        ``bike-bench reproduce --smoke-epochs``."""
        if epochs is not None:
            fields.update(train_epochs=epochs, finetune_epochs=epochs,
                          fewshot_epochs=epochs)
        return cls(**fields)

    def epochs(self, protocol: str, finetuned: bool) -> int:
        """Training epochs of a twin of ``protocol`` (fine-tuned from a parent
        twin or not)."""
        if protocol == Protocol.FEWSHOT:
            return self.fewshot_epochs
        return self.finetune_epochs if finetuned else self.train_epochs


@dataclasses.dataclass(frozen=True)
class ReproduceSettings:
    """Where a ``reproduce`` run reads and writes, and how its twins train.

    Build it with :meth:`under`, which fills the folders from the output
    root.

    Attributes:
        output_root: the user's root every default folder lies under.
        runs_dir: results files, one folder per scale (``smoke/``, ``full/``).
        work_dir: checkpoints, logs and the configs that ran.
        synth_root: where the synthetic benchmark is written.
        tables_dir: where the tables are built.
        readme: a README whose tables index is brought up to date (the
            maintainers' ``results/README.md``); None: no README is touched.
        smoke: how the smoke twins train.
        eval_transform: a config transform applied to every config a smoke
            twin is evaluated with (tested; for few-shot, trained and tested)
            after the twin is derived, not to the training of a checkpoint it
            evaluates. The results' run key covers the transformed config.
            The planted-fault tests swap their faults in with it
            (``tests/planted``); None for every real run.
    """

    output_root: str
    runs_dir: str
    work_dir: str
    synth_root: str
    tables_dir: str
    readme: Optional[str] = None
    smoke: SmokeSettings = SmokeSettings()
    eval_transform: Optional[ConfigTransform] = None

    @classmethod
    def under(cls, output_root: Optional[str] = None, *, runs_dir: Optional[str] = None,
              work_dir: Optional[str] = None, synth_root: Optional[str] = None,
              tables_dir: Optional[str] = None, readme: Optional[str] = None,
              smoke: Optional[SmokeSettings] = None,
              eval_transform: Optional[ConfigTransform] = None) -> 'ReproduceSettings':
        """Settings with every folder not given placed under the output root.

        Defaults: ``work_dir`` = ``<root>/work_dirs/reproduce``, ``runs_dir``
        = ``<work_dir>/runs`` (a local measurement, never the reference
        runs), ``tables_dir`` = ``tables/`` beside ``runs_dir``,
        ``synth_root`` = ``<root>/data/synthetic``. ``output_root`` defaults
        to ``bike_bench.paths.output_root()``.

        Raises:
            bike_bench.paths.OutputRootError: the root lies inside the
                installed package.
        """
        if output_root is None:
            root = str(paths.output_root())
            synth_default = paths.user_path('data', 'synthetic')
        else:
            root = os.path.abspath(output_root)
            synth_default = os.path.join(root, 'data', 'synthetic')
            work_dir = work_dir or os.path.join(root, 'work_dirs', 'reproduce')
        # Under the current folder as root, folders stay relative: configs,
        # run keys and results files then hold no machine's absolute path.
        work_dir = work_dir or paths.user_path('work_dirs', 'reproduce')
        runs_dir = runs_dir or os.path.join(work_dir, 'runs')
        tables_dir = tables_dir or tables_beside(runs_dir)
        return cls(output_root=root, runs_dir=runs_dir, work_dir=work_dir,
                   synth_root=synth_root or synth_default, tables_dir=tables_dir,
                   readme=readme, smoke=smoke or SmokeSettings(),
                   eval_transform=eval_transform)

    def replace(self, **changes) -> 'ReproduceSettings':
        """A copy with ``changes`` (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


def tables_beside(runs_dir: str) -> str:
    """The tables folder that goes with a runs folder: ``tables/`` beside it
    (``results/runs`` -> ``results/tables``)."""
    return os.path.join(os.path.dirname(os.path.abspath(runs_dir)), 'tables')


def user_runs_dir() -> str:
    """The user's results folder, ``<output root>/results/runs``: where
    full-scale ``reproduce`` writes and ``bike-bench tables`` reads by
    default."""
    return paths.output_path('results', 'runs')
