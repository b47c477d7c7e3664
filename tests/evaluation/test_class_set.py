"""The class-set record says whether a test is a zero-shot evaluation."""
from __future__ import annotations

from bike_bench.evaluation.class_set import (REORDERED_NOTE, ZERO_SHOT_NOTE,
                                             class_set_record)

TRAINED = ['red circle moving left', 'red circle moving right', 'blue square growing']


def _meta(classes):
    return dict(dataset_meta=dict(classes=classes))


def test_the_training_classes_are_the_same_set():
    assert class_set_record(_meta(TRAINED), TRAINED) == dict(
        same_as_training=True, test_classes=3, checkpoint_classes=3)


def test_the_training_classes_in_another_order_are_not_called_zero_shot():
    record = class_set_record(_meta(TRAINED), TRAINED[::-1])
    assert record['same_as_training'] is False
    assert record['same_names_other_order'] is True and record['unseen_classes'] == 0
    assert record['note'] == REORDERED_NOTE and 'not a zero-shot' in record['note']


def test_unseen_classes_are_a_zero_shot_evaluation():
    record = class_set_record(_meta(TRAINED), TRAINED[:2] + ['green triangle moving up'])
    assert record['unseen_classes'] == 1 and record['shared_classes'] == 2
    assert record['same_names_other_order'] is False
    assert record['note'] == ZERO_SHOT_NOTE


def test_a_checkpoint_without_training_classes_says_so():
    record = class_set_record({}, TRAINED)
    assert record['same_as_training'] is None and 'no meta dataset_meta.classes' in record['note']
