"""How ``reproduce`` runs each evaluation protocol, one small class each.

The protocol names are :class:`bike_bench.protocols.Protocol` (one enum);
this module holds what differs in running them.

``reproduce`` looks a protocol up by an entry's ``protocol`` name and calls
it; what differs between protocols (which checkpoint a smoke twin tests,
how a full-scale entry is evaluated, whether a released checkpoint exists)
lives here instead of ``if/elif`` chains in every caller.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Type

from bike_bench.protocols import Protocol


class ProtocolRunner:
    """How an entry of one protocol is run at smoke and at full scale."""

    name: Protocol
    released_checkpoint = True  # the official release has its weights

    def run_smoke(self, runner, twin, entry, scratch: str) -> dict:
        """Run a smoke twin (``runner``: the ``SmokeRunner``); its results."""
        raise NotImplementedError

    def run_full(self, cfgs, checkpoint: str, manifests: List[str], scratch: str,
                 entry) -> dict:
        """Evaluate an official checkpoint; its results."""
        raise NotImplementedError(f'protocol {self.name} has no full-scale '
                                  'evaluation of released weights')


PROTOCOLS: Dict[Protocol, ProtocolRunner] = {}


def register(cls: Type[ProtocolRunner]) -> Type[ProtocolRunner]:
    PROTOCOLS[cls.name] = cls()
    return cls


def protocol(name: str) -> ProtocolRunner:
    """The protocol called ``name``; ``KeyError`` naming the known ones."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise KeyError(f'unknown protocol {name!r} (known: '
                       f'{", ".join(sorted(PROTOCOLS))})') from None


@register
class General(ProtocolRunner):
    """Train (or fine-tune) on a dataset, test on it."""

    name = Protocol.GENERAL

    def run_smoke(self, runner, twin, entry, scratch):
        from bike_bench.evaluation.harness import run_test
        checkpoint = runner.checkpoint(twin)
        return run_test(runner.eval_config(twin), checkpoint, out=scratch, run_id=twin.id,
                        replace=True)

    def run_full(self, cfgs, checkpoint, manifests, scratch, entry):
        from bike_bench.evaluation.harness import run_test
        return run_test(cfgs[0], checkpoint, out=scratch, run_id=entry.id, replace=True)


@register
class FewShot(ProtocolRunner):
    """K videos per class, trained and tested (no released weights)."""

    name = Protocol.FEWSHOT
    released_checkpoint = False

    def run_smoke(self, runner, twin, entry, scratch):
        from bike_bench.evaluation.fewshot import run_fewshot, shot_results
        cfg = runner.twin_config(twin, entry)
        summary = run_fewshot(cfg, shots=[twin.shots], seeds=list(runner.fewshot_seeds),
                              work_dir=os.path.join(runner.work_dir, twin.id),
                              resume=runner.reuse_fewshot_seeds, train=runner.train)
        return shot_results(summary['by_shots'][str(twin.shots)])


class _ZeroShot(ProtocolRunner):
    """A parent's checkpoint on classes it was not trained on."""

    zeroshot = ''  # the zero-shot evaluation's protocol name

    def run_smoke(self, runner, twin, entry, scratch):
        from bike_bench.evaluation.zeroshot import run_zeroshot
        from bike_bench.reproduction import smoke_twins
        cfg = runner.twin_config(twin, entry)
        manifests = smoke_twins.manifest_path(runner.synth_root, twin.dataset, 'zeroshot')
        return run_zeroshot(
            cfg, runner.checkpoint(twin.parent), manifests, protocol=self.zeroshot,
            class_tables=smoke_twins.class_tables(runner.synth_root, twin.dataset),
            dataset_name=f'synthetic-{twin.dataset}', out=scratch, run_id=twin.id,
            replace=True)

    def run_full(self, cfgs, checkpoint, manifests, scratch, entry):
        from bike_bench.evaluation.zeroshot import run_zeroshot
        tables: List[Optional[str]] = [cfg.test_dataloader.dataset.get('class_table')
                                       for cfg in cfgs]
        return run_zeroshot(cfgs[0], checkpoint, manifests, protocol=self.zeroshot,
                            class_tables=tables, out=scratch, run_id=entry.id,
                            replace=True)


@register
class ZeroShotHalf(_ZeroShot):
    """10 half-class splits (and all classes) of UCF, HMDB, ActivityNet."""

    name = Protocol.ZEROSHOT_HALF
    zeroshot = 'half'


@register
class ZeroShotK600(_ZeroShot):
    """The three 160-class Kinetics-600 splits."""

    name = Protocol.ZEROSHOT_K600
    zeroshot = 'k600'
