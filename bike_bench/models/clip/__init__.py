"""The one place where bike_bench touches open_clip, one concept per module.

Backbones are named the open_clip way, as an (architecture, pretrained)
pair: ``('ViT-B-16', 'openai')``; bike-bench's own tiny architectures are
open_clip model configs too (``model_configs/*.json``, registered with
open_clip on import).

- ``model_configs``: the tiny architectures, registered with open_clip;
- ``weights``: CLIP weights in local files and in open_clip's caches;
- ``text_towers``: how BIKE reads class and token features from each family
  of open_clip text tower (``TEXT_TOWERS``);
- ``factory``: ``build_clip`` (the one place ``pretrained`` is resolved)
  and the image tower's facts (size, statistics);
- ``tokenizer``: the tokenizer open_clip pairs with an architecture.
"""
