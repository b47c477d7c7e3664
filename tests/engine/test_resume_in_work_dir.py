"""``train --resume`` in a copied work dir continues from the copy's own
checkpoint, not from the file MMEngine's absolute ``last_checkpoint``
pointer names in the original (docs/reliability.md, "Resuming")."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bike_bench.checkpoint_io import resume_checkpoint
from bike_bench.cli.main import main as cli
from bike_bench.datasets.smoke import write_smoke_set

from .conftest import SMOKE_CONFIG

pytestmark = pytest.mark.slow


def _train(work_dir: Path, data, epochs: int, *extra: str) -> int:
    return cli(['train', SMOKE_CONFIG, '--work-dir', str(work_dir), '--no-validate',
                *extra, '--cfg-options',
                f'train_dataloader.dataset.ann_file={data["train"]}',
                'train_dataloader.batch_size=4', f'train_cfg.max_epochs={epochs}',
                'default_hooks.checkpoint.save_best=None',
                'default_hooks.logger.interval=50'])


def test_copied_work_dir_resumes_from_its_own_checkpoint(tmp_path, capsys):
    data = write_smoke_set(str(tmp_path / 'data'), num_classes=2, train_per_class=4,
                           val_per_class=1, num_frames=12)
    original, copy = tmp_path / 'original', tmp_path / 'copy'
    assert _train(original, data, 2) == 0
    assert (original / 'last_checkpoint').read_text().strip() == \
        str(original / 'epoch_2.pth')  # MMEngine's absolute pointer
    shutil.copytree(original, copy)
    # The original's file is no checkpoint any more: loading it would fail.
    (original / 'epoch_2.pth').write_bytes(b'not a checkpoint')
    found, note = resume_checkpoint(str(copy))
    assert found == str(copy / 'epoch_2.pth')
    assert note.startswith('resume: ') and str(original / 'epoch_2.pth') in note
    capsys.readouterr()
    assert _train(copy, data, 3, '--resume') == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith('resume: ')]
    assert len(lines) == 1 and str(copy / 'epoch_2.pth') in lines[0]
    assert (copy / 'epoch_3.pth').is_file() and not (original / 'epoch_3.pth').exists()
    assert (copy / 'last_checkpoint').read_text().strip() == str(copy / 'epoch_3.pth')
    log = sorted(copy.glob('*/*.log'))[-1].read_text()
    assert 'resumed epoch: 2,' in log  # MMEngine's Runner.resume line
    # --resume-from names the file explicitly; both at once are refused.
    assert resume_checkpoint(str(tmp_path / 'nowhere')) == (None, None)
    with pytest.raises(SystemExit, match='not both'):
        _train(copy, data, 3, '--resume', '--resume-from', str(copy / 'epoch_2.pth'))
