"""The training-parity report: a replay against the official trajectory.

``build_report`` compares what ``TrajectoryRecorderHook`` saw during a
replay with the fixture and names the first divergence; ``format_report``
prints the per-iteration table, the per-weight differences and the verdict.

Tolerances (``mmconfigs/README.md``, training parity): losses 1e-5,
learning rates 1e-9, final weights 2e-5 absolute, except rows ``D:2D`` (the
key part) of every attention ``in_proj_bias``: their gradient is zero in
exact arithmetic (softmax ignores a per-query constant), so AdamW turns
float noise of order 1e-10 into updates of order ``lr * g / eps``; they are
compared to 1e-3.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Mapping, Optional

import torch

from bike_bench.models.convert import convert_official
from bike_bench.tools.parity_groups import compare_parameter_settings, is_key_bias_slice

LOSS_TOL = 1e-5
LR_TOL = 1e-9
WEIGHT_TOL = 2e-5
KEY_BIAS_TOL = 1e-3


@dataclasses.dataclass
class WeightDiff:
    name: str
    max_diff: float
    tolerance: float
    key_slice_diff: Optional[float] = None  # in_proj_bias rows D:2D

    @property
    def ok(self) -> bool:
        key_ok = self.key_slice_diff is None or self.key_slice_diff <= KEY_BIAS_TOL
        return self.max_diff <= self.tolerance and key_ok


@dataclasses.dataclass
class ReplayReport:
    rows: List[Dict[str, Any]]
    weights: List[WeightDiff]
    frozen_max_change: float
    frozen_count: int
    initial_max_diff: float
    tokens_equal: bool
    settings: Dict[str, Any]
    schedule: str
    optimizer_problems: List[str]
    first_divergence: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.first_divergence is None

    def largest(self) -> Dict[str, float]:
        loss = max((r['loss_diff'] for r in self.rows), default=0.0)
        lr = max((max(r['lr_clip_diff'], r['lr_head_diff']) for r in self.rows), default=0.0)
        weight = max((w.max_diff for w in self.weights), default=0.0)
        key = max((w.key_slice_diff for w in self.weights
                   if w.key_slice_diff is not None), default=0.0)
        return dict(loss=loss, lr=lr, weight=weight, key_slice=key)


def _weight_diffs(model_state: Mapping[str, torch.Tensor],
                  official: Mapping[str, torch.Tensor]) -> List[WeightDiff]:
    diffs = []
    for name, reference in official.items():
        ours = model_state[name].detach().float().cpu()
        delta = (ours - reference.float()).abs()
        if is_key_bias_slice(name):
            width = delta.shape[0] // 3
            mask = torch.ones_like(delta, dtype=torch.bool)
            mask[width:2 * width] = False
            diffs.append(WeightDiff(name, delta[mask].max().item(), WEIGHT_TOL,
                                    delta[width:2 * width].max().item()))
        else:
            diffs.append(WeightDiff(name, delta.max().item(), WEIGHT_TOL))
    return diffs


def build_report(recorder, model_state: Mapping[str, torch.Tensor],
                 data: Mapping, schedule: str) -> ReplayReport:
    """Compare what the recorder (a ``TrajectoryRecorderHook`` after the
    replay) saw with the fixture; find the first
    divergence (prompt tokens, optimizer construction, initial weights,
    then per iteration loss / lrs / whether the optimizer stepped, then the
    final weights)."""
    first: Optional[str] = None
    tokens_equal = recorder.tokens is not None and torch.equal(
        recorder.tokens, data['text_tokens'].long())
    if not tokens_equal:
        first = 'the prompt tokens differ from the fixture\'s text_tokens'

    settings = data['settings']
    converted_init, _ = convert_official(dict(data['init_official_format']))
    initial_max = max(((recorder.initial_state[k].float() - v.float()).abs().max().item()
                       for k, v in converted_init.items()), default=0.0)
    if first is None and initial_max > 0:
        first = f'the initial weights differ from the converted fixture (max {initial_max:.3g})'

    problems = compare_parameter_settings(recorder.parameter_settings,
                                          recorder.official_settings)
    if first is None and problems:
        first = f'optimizer construction: {problems[0]}'

    rows = []
    steps = data['steps']
    for index, reference in enumerate(steps):
        ours = recorder.steps[index] if index < len(recorder.steps) else None
        row = dict(index=index, epoch=reference['epoch'], iter=reference['iter'],
                   ref_loss=reference['loss'], ref_lr_clip=reference['lr_clip'],
                   ref_lr_head=reference['lr_head'], ref_stepped=reference['stepped'])
        if ours is None:
            row.update(loss=float('nan'), lr_clip=float('nan'), lr_head=float('nan'),
                       stepped=None, loss_diff=float('inf'), lr_clip_diff=float('inf'),
                       lr_head_diff=float('inf'))
        else:
            row.update(loss=ours['loss'], lr_clip=ours['lr_clip'], lr_head=ours['lr_head'],
                       stepped=ours['stepped'],
                       loss_diff=abs(ours['loss'] - reference['loss']),
                       lr_clip_diff=abs(ours['lr_clip'] - reference['lr_clip']),
                       lr_head_diff=abs(ours['lr_head'] - reference['lr_head']))
        rows.append(row)
        if first is not None:
            continue
        where = (f'iteration {index} (epoch {reference["epoch"]}, iteration '
                 f'{reference["iter"]} of the epoch)')
        if ours is None:
            first = f'{where}: the replay ran no such iteration'
        elif not row['lr_clip_diff'] <= LR_TOL or not row['lr_head_diff'] <= LR_TOL:
            first = (f'{where}: learning rates differ: CLIP {row["lr_clip"]:.10g} vs '
                     f'official {reference["lr_clip"]:.10g}, head {row["lr_head"]:.10g} '
                     f'vs official {reference["lr_head"]:.10g}')
        elif not row['loss_diff'] <= LOSS_TOL:
            first = (f'{where}: loss {row["loss"]:.8g} vs official '
                     f'{reference["loss"]:.8g} (diff {row["loss_diff"]:.3g} > {LOSS_TOL:g})')
        elif row['stepped'] != reference['stepped']:
            first = (f'{where}: the optimizer {"stepped" if row["stepped"] else "did not step"}'
                     f', the official one {"did" if reference["stepped"] else "did not"}')

    final_official, _ = convert_official({
        'model_state_dict': dict(data['final_model_state_dict']),
        'fusion_model_state_dict': dict(data['final_fusion_model_state_dict'])})
    weights = _weight_diffs(model_state, final_official)
    if first is None:
        for diff in weights:
            if not diff.ok:
                detail = (f'max diff {diff.max_diff:.3g} (tolerance {WEIGHT_TOL:g})'
                          if diff.max_diff > WEIGHT_TOL else
                          f'key rows D:2D max diff {diff.key_slice_diff:.3g} '
                          f'(tolerance {KEY_BIAS_TOL:g})')
                first = f'final weight {diff.name}: {detail}'
                break
    # Weights the official run does not save (the frozen text tower) must not move.
    frozen = [k for k in model_state if k not in final_official and k in recorder.initial_state
              and k in dict(recorder.parameter_settings)
              and not recorder.parameter_settings[k]['trained']]
    frozen_change = max(((model_state[k].float() - recorder.initial_state[k].float())
                         .abs().max().item() for k in frozen), default=0.0)
    if first is None and frozen_change > 0:
        first = f'a frozen weight changed during training (max {frozen_change:.3g})'
    return ReplayReport(rows=rows, weights=weights, frozen_max_change=frozen_change,
                        frozen_count=len(frozen), initial_max_diff=initial_max,
                        tokens_equal=tokens_equal, settings=dict(settings),
                        schedule=schedule, optimizer_problems=problems,
                        first_divergence=first)


def format_report(report: ReplayReport) -> str:
    """The per-iteration table, the per-weight differences and the verdict."""
    s = report.settings
    lines = [
        f'settings: {s["epochs"]} epochs ({s["warmup_epochs"]} warm-up) x '
        f'{s["iters_per_epoch"]} iterations, batch {s["batch"]}, {s["frames"]} frames, '
        f'lr {s["lr"]:g} (CLIP x{s["clip_ratio"]:g}), weight decay {s["weight_decay"]:g}, '
        f'loss {s["loss"]}, accumulation {s["grad_accumulation_steps"]}',
        f'schedule: {report.schedule}',
        f'prompt tokens equal to the fixture\'s: {report.tokens_equal}; initial weights '
        f'through the converter: max diff {report.initial_max_diff:.3g}',
        'optimizer groups as the official solver.py (CLIP incl. logit_scale at lr x '
        'clip_ratio, weight decay on every parameter, text tower frozen except '
        'logit_scale): ' + ('yes' if not report.optimizer_problems else
                           f'NO ({len(report.optimizer_problems)} differences, first: '
                           f'{report.optimizer_problems[0]})'),
        '',
        f'{"it":>3} {"ep":>2} {"i":>3}  {"loss":>12} {"official":>12} {"diff":>9}  '
        f'{"lr CLIP":>11} {"official":>11}  {"lr head":>11} {"official":>11} {"diff":>9}  step',
    ]
    for r in report.rows:
        lr_diff = max(r['lr_clip_diff'], r['lr_head_diff'])
        stepped = '-' if r['stepped'] is None else ('y' if r['stepped'] else 'n')
        lines.append(
            f'{r["index"]:>3} {r["epoch"]:>2} {r["iter"]:>3}  {r["loss"]:>12.8f} '
            f'{r["ref_loss"]:>12.8f} {r["loss_diff"]:>9.2e}  {r["lr_clip"]:>11.4e} '
            f'{r["ref_lr_clip"]:>11.4e}  {r["lr_head"]:>11.4e} {r["ref_lr_head"]:>11.4e} '
            f'{lr_diff:>9.2e}  {stepped}/{"y" if r["ref_stepped"] else "n"}')
    lines += ['', f'final weights (max |ours - official|, tolerance {WEIGHT_TOL:g}; rows D:2D '
                  f'of in_proj_bias separately, tolerance {KEY_BIAS_TOL:g}):']
    for w in report.weights:
        extra = '' if w.key_slice_diff is None else f'   key rows D:2D {w.key_slice_diff:.2e}'
        lines.append(f'  {w.name:<60} {w.max_diff:.2e}{extra}{"" if w.ok else "   FAIL"}')
    lines.append(f'  frozen weights (not saved by the official run, {report.frozen_count} '
                 f'tensors): max change {report.frozen_max_change:.2e}')
    big = report.largest()
    lines += [
        '',
        'note: the key rows D:2D of every attention in_proj_bias have zero gradient in '
        'exact arithmetic (softmax ignores a per-query constant); AdamW turns their '
        f'float noise into updates of order lr*g/eps, so they are compared to {KEY_BIAS_TOL:g}.',
        f'largest differences: loss {big["loss"]:.3g} (tol {LOSS_TOL:g}), lr {big["lr"]:.3g} '
        f'(tol {LR_TOL:g}), weight {big["weight"]:.3g} (tol {WEIGHT_TOL:g}), in_proj_bias '
        f'key rows {big["key_slice"]:.3g} (tol {KEY_BIAS_TOL:g})',
    ]
    if report.ok:
        lines.append('PASS: every loss, learning rate and final weight is within tolerance')
    else:
        lines.append(f'FAIL: first divergence: {report.first_divergence}')
    return '\n'.join(lines)
