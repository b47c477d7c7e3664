#!/usr/bin/env bash
# Wheels for the GPU machine (Python 3.12, manylinux x86_64, no network there):
# the packages bike-bench needs that its image lacks (KINDS.md lists the image's
# packages: torch, torchvision, timm, transformers, opencv-python-headless,
# numpy, pandas, ... are there). Downloaded into .whl/ (git-ignored), carried
# with the device command (see results/README.md, "GPU bench").
# Usage: scripts/gpu_wheels.sh [PYTHON]   (default python3; needs pip)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
WHEELS=(
  mmengine==0.10.7 mmcv-lite==2.1.0 mmaction2==1.2.0   # installed --no-deps (one OpenCV)
  open_clip_torch==3.3.0 decord==0.6.0 av==18.1.0
  addict==2.4.0 yapf==0.43.0 termcolor==3.3.0 platformdirs==4.14.8   # mmengine's needs
  ftfy==6.3.1 wcwidth==0.9.4                                          # open_clip's needs
  importlib_metadata==10.2.0                                          # mmaction2's
)
mkdir -p .whl
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --abi cp312 --abi abi3 --abi none \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux1_x86_64 --platform any -d .whl "${WHEELS[@]}"
du -ch .whl/*.whl | tail -1
