"""AP/mAP against scikit-learn, the official running figure, accuracies."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from bike_bench.evaluation.metrics import functional as F


def random_case(seed, videos=60, classes=7, decimals=1):
    rng = np.random.default_rng(seed)
    # Rounded scores: many ties within every class.
    scores = np.round(rng.random((videos, classes)), decimals)
    targets = (rng.random((videos, classes)) < 0.3).astype(int)
    targets[rng.integers(videos, size=classes), np.arange(classes)] = 1
    return scores, targets


@pytest.mark.parametrize('seed', range(8))
def test_map_equals_sklearn_macro_with_ties(seed):
    scores, targets = random_case(seed)
    ours, per_class = F.mean_average_precision(scores, targets)
    assert abs(ours - average_precision_score(targets, scores, average='macro')) < 1e-9
    theirs = average_precision_score(targets, scores, average=None)
    assert np.max(np.abs(per_class - theirs)) < 1e-9


@pytest.mark.parametrize('seed', range(4))
def test_single_label_targets_are_one_hot(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((40, 5)), 2)
    labels = np.r_[np.arange(5), rng.integers(5, size=35)]
    ours, _ = F.mean_average_precision(scores, labels)
    one_hot = np.eye(5, dtype=int)[labels]
    assert abs(ours - average_precision_score(one_hot, scores, average='macro')) < 1e-9


def test_hand_checked_example():
    # Ranked: pos (P 1/1), neg, pos (P 2/3), neg -> AP = (1 + 2/3) / 2.
    assert F.binary_average_precision(np.array([.9, .8, .7, .6]),
                                      np.array([1, 0, 1, 0])) == pytest.approx(5 / 6, abs=1e-12)
    # A tie of one positive and one negative enters as one threshold:
    # 0.9 pos (R .5, P 1), {0.5 pos, 0.5 neg} (R 1, P 2/3) -> .5 + .5 * 2/3.
    assert F.binary_average_precision(np.array([.5, .5, .2, .9]),
                                      np.array([0, 1, 0, 1])) == pytest.approx(5 / 6, abs=1e-12)
    scores = np.array([[.9, .1], [.8, .7], [.1, .8]])
    targets = np.array([[1, 0], [0, 1], [1, 1]])
    # class 0: pos, neg, pos -> (1 + 2/3)/2; class 1: pos@.8, pos@.7 -> 1.
    value, per_class = F.mean_average_precision(scores, targets)
    assert per_class.tolist() == pytest.approx([5 / 6, 1.0])
    assert value == pytest.approx((5 / 6 + 1) / 2)


def test_classes_without_positives():
    scores, targets = random_case(3)
    targets[:, 2] = 0
    excluded, per_class = F.mean_average_precision(scores, targets)
    assert np.isnan(per_class[2])
    assert excluded == pytest.approx(np.nanmean(per_class))
    zero, _ = F.mean_average_precision(scores, targets, no_positive='zero')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # sklearn warns, then counts AP 0
        sklearn_value = average_precision_score(targets, scores, average='macro')
    assert abs(zero - sklearn_value) < 1e-9


def test_torchnet_ap_and_the_running_figure_by_hand():
    scores = np.array([[.9], [.2], [.8], [.3]])
    targets = np.array([[1], [0], [0], [1]])
    # Full set ranked .9 pos, .8 neg, .3 pos, .2 neg: (1 + 2/3) / 2.
    assert F.torchnet_average_precision(scores, targets)[0] == pytest.approx(5 / 6)
    # Batches of 2: after batch 1 (.9 pos, .2 neg) AP 1; after batch 2, 5/6.
    assert F.official_running_map(scores, targets, 2) == pytest.approx((1 * 2 + 5 / 6 * 2) / 4)
    # A batch of the whole set gives the true (torchnet) mAP; batch size matters.
    assert F.official_running_map(scores, targets, 4) == pytest.approx(5 / 6)
    assert F.official_running_map(scores, targets, 3) == pytest.approx((1 * 3 + 5 / 6) / 4)


def test_torchnet_ap_equals_sklearn_without_ties():
    rng = np.random.default_rng(0)
    scores = rng.random((50, 6))
    targets = (rng.random((50, 6)) < 0.4).astype(int)
    targets[0] = 1
    assert np.max(np.abs(F.torchnet_average_precision(scores, targets)
                         - average_precision_score(targets, scores, average=None))) < 1e-9


def test_accuracies_with_numpy2_label_types():
    scores = np.array([[.1, .7, .2], [.5, .3, .2], [.2, .3, .5], [.6, .3, .1]])
    for dtype in (np.int64, np.int32, np.uint8):
        labels = np.array([1, 0, 1, 2], dtype=dtype)
        acc = F.topk_accuracy(scores, labels, (1, 2))
        assert acc == {1: 0.5, 2: 0.75}
        predictions = scores.argmax(1)
        per_class, counts = F.per_class_accuracy(predictions, labels, 4)
        assert counts.tolist() == [1, 2, 1, 0]
        assert per_class[:3].tolist() == [1.0, 0.5, 0.0] and np.isnan(per_class[3])
        # Class 3 has no videos and does not enter the mean.
        assert F.mean_class_accuracy(predictions, labels, 4) == pytest.approx(0.5)


def test_bad_inputs_are_errors():
    with pytest.raises(ValueError, match='NaN'):
        F.average_precision(np.array([[np.nan, 1.0]]), np.array([0]))
    with pytest.raises(ValueError, match='outside'):
        F.average_precision(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match='no class has a positive'):
        F.mean_average_precision(np.zeros((2, 2)), np.zeros((2, 2), int))


def test_topk_of_as_many_classes_or_more_is_not_applicable():
    """Top-k over k or fewer classes counts every video as a hit."""
    scores = np.array([[.1, .7, .2], [.5, .3, .2]])
    labels = np.array([2, 2])
    acc = F.topk_accuracy(scores, labels, (1, 2, 3, 5))
    assert acc[1] == 0.0 and acc[2] == 0.5
    assert np.isnan(acc[3]) and np.isnan(acc[5])
    assert F.topk_not_applicable((1, 2, 3, 5), 3) == {
        'top3': 'top-3 of 3 classes is always 1', 'top5': 'top-5 of 3 classes is always 1'}
    assert F.topk_not_applicable((1, 5), 8) == {}
