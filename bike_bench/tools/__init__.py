"""Tools around the benchmark, not part of the model or training path.

- ``toy_clip``: pre-trains the toy CLIP the smoke configs start from
  (``bike-bench pretrain-toy``);
- ``parity_train``: replays an official training trajectory fixture through
  the project's training path and compares it (``bike-bench parity-train``).

Nothing under ``bike_bench.models``, ``engine``, ``datasets`` or
``evaluation`` imports from here.
"""
