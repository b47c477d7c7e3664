"""Group 9: mismatches that used to run (or fail) without a useful word.

- a checkpoint trained on 8 classes tested on a 4-class manifest: it runs
  (BIKE scores against class-name embeddings) and the results file records
  that the class set differs from the checkpoint's training classes;
- a tiny checkpoint tested with a ViT-B/16 config: one summary (what the
  checkpoint is, what the config expects) instead of 134 ``size mismatch``
  lines;
- a webm whose container has no duration (written as a live stream) that
  decodes fine frame by frame: the error says remuxing fixes it.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bike_bench.cli.main import main as cli
from bike_bench.datasets.manifest import ManifestEntry
from bike_bench.datasets.synthetic import choose_classes
from bike_bench.datasets.transforms.decoding import VideoReadError, open_video
from bike_bench.evaluation.harness import run_test
from bike_bench.evaluation.results import validate_results

from .conftest import REPO, smoke_cfg, write_entries_manifest

GROUP = 'mismatches'
VIT_B16 = str(REPO / 'mmconfigs' / 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_'
              'kinetics400-rgb.py')


def _checkpoint_with_classes(random_checkpoint: str, classes, out: Path) -> str:
    data = torch.load(random_checkpoint, weights_only=True)
    data['meta'] = dict(dataset_meta=dict(classes=tuple(classes)), epoch=8,
                        experiment_name='smoke')
    torch.save(data, out)
    return str(out)


@pytest.fixture()
def four_class_manifest(clean_videos, tmp_path) -> str:
    entries = [ManifestEntry(path=p, label=label, id=id_)
               for p, label, id_ in clean_videos['videos'][::4]]
    return write_entries_manifest(tmp_path / 'val.jsonl', clean_videos['classes'],
                                  entries, split='val')


def test_another_class_set_is_recorded_as_zero_shot(four_class_manifest, clean_videos,
                                                    random_checkpoint, tmp_path, faults):
    faults.tried(GROUP, 'test classes differ from the checkpoint\'s training classes')
    eight = [c.name for c in choose_classes(8, seed=0)]
    other = _checkpoint_with_classes(random_checkpoint, eight, tmp_path / 'eight.pth')
    cfg = smoke_cfg(tmp_path / 'work', four_class_manifest)
    data = validate_results(run_test(cfg, other, out=str(tmp_path / 'r8.json'))['path'])
    record = data['class_set']
    assert record['same_as_training'] is False
    assert (record['test_classes'], record['checkpoint_classes']) == (4, 8)
    assert record['shared_classes'] == len(set(eight) & set(clean_videos['classes']))
    assert 'zero-shot' in record['note']

    same = _checkpoint_with_classes(random_checkpoint, clean_videos['classes'],
                                    tmp_path / 'four.pth')
    data = validate_results(run_test(cfg, same, out=str(tmp_path / 'r4.json'))['path'])
    assert data['class_set'] == dict(same_as_training=True, test_classes=4,
                                     checkpoint_classes=4)


def test_an_architecture_mismatch_is_summarised_first(four_class_manifest,
                                                      random_checkpoint, tmp_path,
                                                      capsys, faults):
    faults.tried(GROUP, 'checkpoint of another architecture than the config')
    with pytest.raises(SystemExit) as stop:
        cli(['test', VIT_B16, random_checkpoint, '--work-dir', str(tmp_path / 'w'),
             '--cfg-options', 'model.backbone.pretrained=None',
             f'test_dataloader.dataset.ann_file={four_class_manifest}',
             'test_dataloader.dataset.class_table=None', 'model.num_classes=4'])
    message = str(stop.value.code)
    assert message.startswith(f'error: {random_checkpoint} was trained for another '
                              'architecture than this config builds: ')
    first_line = message.splitlines()[0]
    assert 'Checkpoint: ViT width 128, 2 layers, patch 16, 64 px, embedding 64' in first_line
    assert 'Config expects: ViT width 768, 12 layers, patch 16, 224 px, embedding 512' \
        in first_line
    assert len(message.splitlines()) == 1
    assert 'size mismatch' not in message + capsys.readouterr().err


LIVE_WEBM = """
import sys
import av
import numpy as np
path, frames = sys.argv[1], int(sys.argv[2])
container = av.open(path, 'w', format='webm', options={'live': '1'})
stream = container.add_stream('libvpx', rate=8)
stream.width, stream.height, stream.pix_fmt = 96, 72, 'yuv420p'
for i in range(frames):
    image = np.full((72, 96, 3), 10 * i, np.uint8)
    for packet in stream.encode(av.VideoFrame.from_ndarray(image, format='rgb24')):
        container.mux(packet)
for packet in stream.encode():
    container.mux(packet)
container.close()
with av.open(path) as check:  # it decodes, but records no duration
    assert check.duration is None, check.duration
    assert sum(1 for _ in check.decode(video=0)) == frames
"""


def _live_webm(path: Path, frames: int = 16) -> str:
    """A VP8 webm muxed as a live stream (no duration, no cues).

    Written in a fresh interpreter: once decord (with its own FFmpeg) is
    loaded, PyAV's VP8 encoder fails to open in the same process.
    """
    pytest.importorskip('av')
    import subprocess
    import sys
    done = subprocess.run([sys.executable, '-c', LIVE_WEBM, str(path), str(frames)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.skip(f'PyAV cannot write a live VP8 webm here: {done.stderr[-300:]}')
    return str(path)


def test_a_webm_without_duration_names_the_remux_fix(tmp_path, faults):
    faults.tried(GROUP, 'webm container without duration that decodes')
    path = _live_webm(tmp_path / 'live.webm')
    try:
        reader = open_video(path)
    except VideoReadError as error:
        assert error.path == path
        assert 'remuxing fixes it' in error.reason
        assert '`ffmpeg -i IN -c copy OUT`' in error.reason
    else:  # a decoder that handles it is fine too, if it reads every frame
        assert len(reader) == 16
