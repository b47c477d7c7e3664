"""Whether a test uses the classes the checkpoint was trained on.

BIKE scores videos against text embeddings of class names, so a checkpoint
trained on one class set runs on any other: that is legitimate, but it is a
zero-shot evaluation, not a test of the trained classifier. MMEngine
stores the training set's ``metainfo`` (``classes``) in the checkpoint's
``meta['dataset_meta']``; ``class_set_record`` compares it with the
evaluated manifest's classes and the results file records the outcome.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Sequence

ZERO_SHOT_NOTE = ('the test classes differ from the classes the checkpoint was '
                  'trained on (checkpoint meta dataset_meta.classes): this is a '
                  'zero-shot evaluation of the classes it did not see')
REORDERED_NOTE = ('the test classes are the classes the checkpoint was trained on, '
                  'in another order: scored by their names, so not a zero-shot '
                  'evaluation')


def class_set_record(meta: Optional[Dict[str, Any]],
                     classes: Sequence[str]) -> Dict[str, Any]:
    """``same_as_training`` (True, False, or None when the checkpoint does
    not say), the class counts and, when they differ, how many are shared
    and a note."""
    test = [str(name) for name in classes]
    dataset_meta = (meta or {}).get('dataset_meta') or {}
    trained = dataset_meta.get('classes') if isinstance(dataset_meta, dict) else None
    if not trained:
        return dict(same_as_training=None, test_classes=len(test),
                    note='the checkpoint records no training classes '
                    '(no meta dataset_meta.classes)')
    trained = [str(name) for name in trained]
    if trained == test:
        return dict(same_as_training=True, test_classes=len(test),
                    checkpoint_classes=len(trained))
    shared = set(trained) & set(test)
    reordered = len(shared) == len(test) == len(trained)
    return dict(same_as_training=False, test_classes=len(test),
                checkpoint_classes=len(trained), shared_classes=len(shared),
                unseen_classes=len(set(test) - set(trained)),
                same_names_other_order=reordered,
                note=REORDERED_NOTE if reordered else ZERO_SHOT_NOTE)


def warn_if_other_classes(record: Dict[str, Any]) -> None:
    if record.get('same_as_training') is False:
        from mmengine.logging import print_log
        print_log(f'class set: {record["test_classes"]} test classes, '
                  f'{record["checkpoint_classes"]} trained ({record["shared_classes"]} '
                  f'shared): {record["note"]}', logger='current',
                  level=logging.WARNING)
