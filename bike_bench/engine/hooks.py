"""MMEngine hooks that connect datasets and the BIKE model."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class ClassNamesHook(Hook):
    """Give the model the class names of the dataset it is run on.

    Prompts come from the dataset's class table, so the same checkpoint can
    be trained on one class set and evaluated (zero-shot) on another; text
    features are re-encoded only when the class set changes.
    """

    priority = 'VERY_HIGH'

    def _sync(self, runner, loader) -> None:
        model = _unwrap(runner.model)
        if not hasattr(model, 'set_class_names'):
            return
        dataset = loader.dataset
        classes = dataset.metainfo.get('classes')
        if not classes:
            raise ValueError(f'{type(dataset).__name__} exposes no class names '
                             '(metainfo["classes"])')
        source = dataset.metainfo.get('manifest') or type(dataset).__name__
        model.set_class_names(list(classes), source=f'class table of {source}')

    _training = False

    def before_train(self, runner) -> None:
        self._training = True
        self._sync(runner, runner.train_dataloader)

    def after_train(self, runner) -> None:
        self._training = False

    def before_val(self, runner) -> None:
        self._sync(runner, runner.val_dataloader)

    def after_val(self, runner) -> None:
        # Back to the training classes for the next epoch (the hook's own
        # flag: the Runner says publicly only whether a train loop is
        # configured, not whether it runs).
        if self._training:
            self._sync(runner, runner.train_dataloader)

    def before_test(self, runner) -> None:
        self._sync(runner, runner.test_dataloader)


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop at the first NaN/inf loss, before it reaches the weights.

    The loss is checked before the optimizer's backward and step, so the
    model still holds the last good state; that state (weights, optimizer,
    schedulers) is saved as ``last_good_iter_<N>.pth`` in the work dir and
    training stops with an error naming the iteration. Resume from that
    checkpoint once the cause (learning rate, data, AMP) is fixed.
    """

    priority = 'HIGHEST'

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        if getattr(wrapper, '_finite_loss_checked', False):
            return
        update_params = wrapper.update_params

        def checked_update_params(loss, *args, **kwargs):
            import torch
            if not torch.isfinite(loss.detach()).all():
                self._stop(runner, loss)
            return update_params(loss, *args, **kwargs)

        wrapper.update_params = checked_update_params
        wrapper._finite_loss_checked = True

    @staticmethod
    def _stop(runner, loss) -> None:
        iteration = runner.iter + 1  # 1-based, as MMEngine logs it
        filename = f'last_good_iter_{runner.iter}.pth'
        runner.save_checkpoint(runner.work_dir, filename, save_optimizer=True,
                               save_param_scheduler=True)
        raise NonFiniteLossError(
            f'non-finite loss ({loss.detach().float().item()}) at iteration '
            f'{iteration} (epoch {runner.epoch + 1}); the weights before this '
            f'step are saved in {runner.work_dir}/{filename}')


@HOOKS.register_module()
class RandomStatesHook(Hook):
    """Keep the random streams in the checkpoints, so a resumed training
    draws what an uninterrupted one would have.

    MMEngine's checkpoints hold the model, optimizer, schedulers and the
    epoch/iteration counters but no random states: a run resumed after
    epoch k starts its augmentations (``OfficialRandomResizedCrop``),
    dropout and loader seeds from the seed of the run, not from where epoch
    k left them, and ends with other weights. This hook adds
    ``checkpoint['random_states']`` (Python ``random``, NumPy's global
    generator, torch's CPU generator and, with CUDA, every device's) and
    restores them after the checkpoint is loaded on resume. Saving them
    draws nothing, so a run with this hook trains exactly as one without.
    ``bike-bench reproduce --executor local/slurm`` adds it to the trainings
    it runs as requeueable jobs (docs/reliability.md).
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        import random

        import numpy as np
        import torch
        states = dict(python=random.getstate(), numpy=np.random.get_state(),
                      torch=torch.get_rng_state())
        if torch.cuda.is_available():
            states['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['random_states'] = states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        import random

        import numpy as np
        import torch
        states = checkpoint.get('random_states')
        if states is None:
            runner.logger.warning('the checkpoint holds no random states '
                                  '(RandomStatesHook): the resumed run draws '
                                  'other augmentations than an uninterrupted one')
            return
        random.setstate(states['python'])
        np.random.set_state(states['numpy'])
        torch.set_rng_state(states['torch'])
        if 'cuda' in states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(states['cuda'])
