"""Training-step throughput: forward + backward of ``model.loss`` (the CPU
sections) and the full step with optimizer in three precision / fusion
variants (the GPU sections)."""
from __future__ import annotations

import time
from typing import Callable, Dict, Optional

import torch

from bike_bench.benchmark import bench_models
from bike_bench.benchmark.measure import add_rate, summarize, time_calls
from bike_bench.benchmark.plans import Budget, DevicePlan
from bike_bench.benchmark.throughput import clips, device_of, samples, sync, synced
from bike_bench.models.fast_path import fuse_attention


def train_step(model, spec, batch: int, frames: int, repeats: int, warmup: int,
               warmup_batch: Optional[int] = None) -> Dict[str, object]:
    """Forward + backward of ``model.loss`` (one clip per video).

    ``warmup_batch`` warms up on a smaller batch (first-call costs do not
    depend on the batch size; a full step is expensive on a CPU).
    """
    device = device_of(model)
    model.train()

    def step_fn(size: int) -> Callable[[], None]:
        inputs = clips(spec, size, 1, frames, device)
        data_samples = samples(size)

        def step() -> None:
            model.loss(inputs, data_samples)['loss'].backward()
            model.zero_grad(set_to_none=True)
        return synced(step, device)

    try:
        for _ in range(warmup):
            step_fn(warmup_batch or batch)()
        model.text_encoder_calls = 0
        result = time_calls(step_fn(batch), repeats, 0, items=batch, unit='videos')
        result['warmup'] = warmup
        result['warmup_batch'] = warmup_batch or batch
        result['text_encoder_calls_per_step'] = model.text_encoder_calls / repeats
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()
    result.update(batch=batch, frames=frames, includes='forward + backward (no optimizer step)')
    return result


TRAIN_VARIANTS = {
    'fp16_amp_eager': dict(dtype='float16', fused_adamw=False, fused_attention=False,
                           checkpointing=False,
                           what='(baseline) fp16 autocast + GradScaler + AdamW, eager'),
    'bf16_amp_fused': dict(dtype='bfloat16', fused_adamw=True, fused_attention=True,
                           checkpointing=False,
                           what='bf16 autocast + fused AdamW + fused SDPA attention'),
    'bf16_amp_fused_checkpointing': dict(dtype='bfloat16', fused_adamw=True,
                                         fused_attention=True, checkpointing=True,
                                         what='as above + gradient checkpointing'),
}


def train_step_variant(spec, device: str, batch: int, frames: int, repeats: int,
                       warmup: int, dtype: str, fused_adamw: bool, fused_attention: bool,
                       checkpointing: bool, **_) -> Dict[str, object]:
    """Videos/s of a full training step (forward, backward, optimizer step)."""
    model = bench_models.build(spec, device=device)
    model.class_text_features()
    model.train()
    if checkpointing:
        model.backbone.clip.set_grad_checkpointing(True)
    if fused_attention:
        fuse_attention(model.backbone.clip.visual)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.2,
                                  **({'fused': True} if fused_adamw else {}))
    amp_dtype = getattr(torch, dtype)
    dev = torch.device(device)
    scaler = torch.amp.GradScaler(dev.type, enabled=dtype == 'float16')
    inputs = clips(spec, batch, 1, frames, dev)
    data_samples = samples(batch)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=amp_dtype):
            loss = model.loss(inputs, data_samples)['loss']
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        sync(dev)

    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev)
    for _ in range(warmup):
        step()
    timed = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        timed.append(time.perf_counter() - start)
    result = add_rate(summarize(timed, warmup), batch, 'videos')
    result['frames_per_s'] = result['videos_per_s'] * frames
    if dev.type == 'cuda':
        result['peak_gpu_memory_gib'] = torch.cuda.max_memory_allocated(dev) / 2 ** 30
    result.update(batch=batch, frames=frames)
    del model, optimizer
    if dev.type == 'cuda':
        torch.cuda.empty_cache()
    return result


def training(spec, device: str, plan: DevicePlan, budget: Budget,
             log: Callable[[str], None]) -> Dict[str, object]:
    batch = plan.train_batch.get(spec.name, plan.batch)
    out: Dict[str, object] = {'batch': batch, 'frames': plan.frames, 'variants': {}}
    for name, variant in TRAIN_VARIANTS.items():
        if not budget.fits(30.0):
            out['variants'][name] = {'what': variant['what'], 'skipped': 'time budget'}
            continue
        log(f'{spec.name}: training step {name}, batch {batch}')
        try:
            result = train_step_variant(spec, device, batch, plan.frames,
                                        plan.train_repeats, plan.warmup, **variant)
        except Exception as error:  # noqa: BLE001
            result = {'failed': f'{type(error).__name__}: {error}'[:400]}
        out['variants'][name] = {'what': variant['what'], **result}
    base = out['variants']['fp16_amp_eager'].get('videos_per_s')
    for name, entry in out['variants'].items():
        if base and entry.get('videos_per_s'):
            entry['speedup_over_fp16_amp_eager'] = entry['videos_per_s'] / base
    return out
