"""The class-text cache: what encoding the class prompts once per
evaluation (and once per training run, frozen text tower) saves."""
from __future__ import annotations

from typing import Callable, Dict

from bike_bench.benchmark import bench_models
from bike_bench.benchmark.measure import time_calls, time_interleaved
from bike_bench.benchmark.plans import CPUPlan
from bike_bench.benchmark.throughput import clips, device_of, samples, synced

# Batches of a full Kinetics-400 evaluation.
K400_EVAL_BATCH = 8


def text_encode_time(model, repeats: int, warmup: int) -> Dict[str, object]:
    """One encode of all class prompts (what the cache saves per reuse).

    Leaves the class features cached for the measurements that follow.
    """
    def encode() -> None:
        model.clear_text_cache()
        model.class_text_features()

    device = device_of(model)
    result = time_calls(synced(encode, device), repeats, warmup)
    result.update(classes=len(model.class_names))
    return result


def text_cache_eval(model, spec, batches: int, batch: int, frames: int,
                    repeats: int) -> Dict[str, object]:
    """A 400-class evaluation of ``batches`` batches with and without the
    class-text cache: text-encoder calls and wall time (measured)."""
    device = device_of(model)
    inputs = clips(spec, batch, 1, frames, device)
    data_samples = samples(batch)
    result: Dict[str, object] = {'batches': batches, 'batch': batch, 'measured': True}
    calls: Dict[str, int] = {}

    def evaluation(name: str, cached: bool) -> Callable[[], None]:
        def evaluate() -> None:
            model.cache_text_features = cached
            model.text_encoder_calls = 0
            model.clear_text_cache()  # a fresh evaluation of this class set
            for _ in range(batches):
                model.predict(inputs, data_samples)
            calls[name] = model.text_encoder_calls
        return synced(evaluate, device)

    try:
        timings = time_interleaved({'with_cache': evaluation('with_cache', True),
                                    'without_cache': evaluation('without_cache', False)},
                                   repeats, warmup=0)
    finally:
        model.cache_text_features = True
    for name, timing in timings.items():
        timing['text_encoder_calls'] = calls[name]
        result[name] = timing
    result['saved_s'] = (result['without_cache']['median_s']
                         - result['with_cache']['median_s'])
    return result


def text_cache_derived(encode_s: float, batches: int, batch: int) -> Dict[str, object]:
    """Calls and time without the cache from the measured encode time
    (for models whose text tower is too slow to re-run here)."""
    return {'batches': batches, 'batch': batch, 'measured': False,
            'with_cache': {'text_encoder_calls': 1},
            'without_cache': {'text_encoder_calls': batches},
            'saved_s': (batches - 1) * encode_s,
            'note': 'saved time = (calls without cache - calls with cache) x '
                    'the measured time of one 400-class encode'}


def k400_saving(encode_s: float) -> Dict[str, object]:
    """What the cache saves in a full K400 validation evaluation."""
    videos = bench_models.K400_VAL_VIDEOS
    batches = -(-videos // K400_EVAL_BATCH)
    return {'videos': videos, 'batch': K400_EVAL_BATCH,
            'text_encoder_calls_without_cache': batches,
            'text_encoder_calls_with_cache': 1,
            'saved_s': (batches - 1) * encode_s}


def text_cache_section(model, spec, plan: CPUPlan, entry: Dict[str, object],
                       log: Callable[[str], None]) -> Dict[str, object]:
    """The ``text_cache`` section of one model, from its ``text_encode`` and
    ``train_step`` figures: a 400-class evaluation with and without the
    cache (measured, or derived for slow text towers), a full K400
    evaluation and the training step."""
    encode_s = entry['text_encode']['median_s']
    batch = plan.model_batches[-1]
    if plan.measure_text_cache:
        log(f'{spec.name}: {bench_models.NUM_CLASSES}-class evaluation with and '
            'without the text cache')
        result = text_cache_eval(model, spec, plan.text_cache_batches, batch,
                                 plan.frames, plan.repeats)
    else:
        result = text_cache_derived(encode_s, plan.text_cache_batches, batch)
    result['encode_s'] = encode_s
    result['encode_measured_runs'] = entry['text_encode']['repeats']
    result['k400_4x3_evaluation'] = k400_saving(encode_s)
    step = entry['train_step']['median_s']
    result['training_step'] = {
        'frozen_text_tower': {'calls_per_step_with_cache':
                                  entry['train_step']['text_encoder_calls_per_step'],
                              'calls_per_step_without_cache': 1,
                              'step_s_with_cache': step,
                              'step_s_without_cache': step + encode_s,
                              'note': 'without the cache every step re-encodes all '
                                      'classes (the official code); derived as the '
                                      'measured step + one measured encode'},
        'trainable_text_tower': 'one encode per step either way (its features change)'}
    return result
