"""BIKE with both directions: the video branch plus the attributes branch.

The attributes branch (Video-to-Text, docs/method.md#attributes) encodes each
video's attribute sentence with the frozen text tower and scores it against
the category texts with ``SentenceHead``; at evaluation its probabilities are
fused with the video branch's (``0.7 * video + 0.3 * attributes`` by default).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dist import get_world_size

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from bike_bench.models.distributed import all_gather_with_grad
from bike_bench.models.losses import same_label_targets
from bike_bench.models.recognizers.bike_recognizer import (BIKERecognizer,
                                                           aggregate_views)

BRANCHES = ('video', 'attributes')
DEFAULT_FUSION_WEIGHTS = (0.7, 0.3)
# A head with no parameters; stands in for the video head while the parent
# class is built for an attributes-only model, then dropped.
_PLACEHOLDER_HEAD = dict(header='None', interaction='DP')
TextFeatures = Tuple[torch.Tensor, torch.Tensor]


@MODELS.register_module()
class BIKEVideoAttributeRecognizer(BIKERecognizer):
    """Video branch + attributes branch, trained with ``L_V + L_A``.

    Args:
        backbone: ``CLIPEncoder`` config.
        video_head: ``BIKEVideoHead`` config; ``None`` for an attributes-only
            model (the official ``train_attributes.py``).
        attribute_head: ``SentenceHead`` config (``embed_dim`` defaults to
            the backbone's). Its weights live under ``attribute_head.``.
        branches: ``('video', 'attributes')`` or ``('attributes',)``.
        fusion_weights: ``(w_video, w_attributes)`` of the fused score.
        loss_weights: ``dict(video=1.0, attributes=1.0)``.
        sentence_cache_size: attribute-sentence features kept while the text
            tower cannot change (0 disables the cache).
        aggregation: multi-view aggregation of the video branch. ``'mean'``
            by default: the official fusion added the plain mean of per-view
            probabilities (its training-time validation scores).
        data_preprocessor: defaults to ``CLIPDataPreprocessor``, or to
            MMEngine's ``BaseDataPreprocessor`` for attributes-only models
            (their pipelines decode no video).
        **kwargs: ``BIKERecognizer`` arguments (loss, class_names, ...).

    Data samples need ``attribute_tokens`` (``AttributeVideoDataset`` +
    ``PackActionInputs(algorithm_keys=('attribute_tokens',))``). Predictions
    set ``pred_score`` (fused, or the attribute score for an attributes-only
    model), ``video_score`` and ``attribute_score``; fused =
    ``w_video * video_score + w_attributes * attribute_score``.
    """

    def __init__(self, backbone: dict, video_head: Optional[dict] = None,
                 attribute_head: Optional[dict] = None,
                 branches: Sequence[str] = BRANCHES,
                 fusion_weights: Sequence[float] = DEFAULT_FUSION_WEIGHTS,
                 loss_weights: Optional[Dict[str, float]] = None,
                 sentence_cache_size: int = 100_000,
                 aggregation: str = 'mean',
                 data_preprocessor: Optional[Union[dict, object]] = None,
                 **kwargs):
        branches = tuple(branches)
        if not branches or any(b not in BRANCHES for b in branches) \
                or 'attributes' not in branches:
            raise ValueError(f'branches must be ("video", "attributes") or '
                             f'("attributes",), not {branches!r} (a video-only '
                             'model is BIKERecognizer)')
        with_video = 'video' in branches
        if with_video and video_head is None:
            raise ValueError('the video branch needs a `video_head` config')
        if not with_video and video_head is not None:
            raise ValueError('an attributes-only model takes no `video_head`')
        if len(fusion_weights) != 2 or min(fusion_weights) < 0:
            raise ValueError('fusion_weights must be two non-negative numbers '
                             f'(video, attributes), not {fusion_weights!r}')
        if data_preprocessor is None and not with_video:
            data_preprocessor = dict(type='BaseDataPreprocessor')
        super().__init__(backbone=backbone,
                         video_head=video_head if with_video else _PLACEHOLDER_HEAD,
                         aggregation=aggregation,
                         data_preprocessor=data_preprocessor, **kwargs)
        self.branches = branches
        if not with_video:
            self.video_head = None
            # The image tower is unused; frozen so no optimiser or DDP sees
            # parameters that never get a gradient.
            for name, param in self.backbone.clip.named_parameters():
                if name.startswith('visual.'):
                    param.requires_grad_(False)
        head_cfg = dict(attribute_head or {})
        head_cfg.setdefault('type', 'SentenceHead')
        head_cfg.setdefault('embed_dim', self.backbone.embed_dim)
        self.attribute_head = MODELS.build(head_cfg)
        self.fusion_weights = tuple(float(w) for w in fusion_weights)
        weights = dict(video=1.0, attributes=1.0)
        unknown = set(loss_weights or {}) - set(weights)
        if unknown:
            raise ValueError(f'unknown loss_weights keys {sorted(unknown)}')
        weights.update(loss_weights or {})
        self.loss_weights = weights
        self.sentence_cache_size = sentence_cache_size
        self.sentence_encoder_calls = 0
        self._sentence_cache: Dict[bytes, torch.Tensor] = {}

    @property
    def with_video(self) -> bool:
        return self.video_head is not None

    # ------------------------------------------------------------ sentences
    @staticmethod
    def attribute_tokens(data_samples: List[ActionDataSample]) -> torch.Tensor:
        """``(B, L)`` token ids of each sample's attribute sentence."""
        rows = []
        for sample in data_samples:
            if 'attribute_tokens' not in sample:
                raise KeyError(
                    'a data sample has no `attribute_tokens`: read the data '
                    'with AttributeVideoDataset and pack them with '
                    "PackActionInputs(algorithm_keys=('attribute_tokens',))")
            rows.append(torch.as_tensor(sample.attribute_tokens).reshape(-1))
        return torch.stack(rows)

    def sentence_features(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(N, D)`` text embeddings of attribute sentences.

        A video's sentence never changes, so while the text tower cannot
        change the feature of each distinct sentence is computed once.
        """
        device = self.backbone.logit_scale.device
        tokens = tokens.to(device)
        cacheable = self.sentence_cache_size > 0 and not (
            self.training and self.backbone.text_trainable)
        if not cacheable:
            self.sentence_encoder_calls += 1
            return self.backbone.encode_text(tokens)[0]
        cache = self._sentence_cache
        if cache and next(iter(cache.values())).device != device:
            cache.clear()
        keys = [row.tobytes() for row in tokens.cpu().numpy()]
        new = {}
        for index, key in enumerate(keys):
            if key not in cache and key not in new:
                new[key] = index
        found = {}
        if new:
            with torch.no_grad():
                self.sentence_encoder_calls += 1
                features = self.backbone.encode_text(tokens[list(new.values())])[0]
            for key, feature in zip(new, features.detach()):
                found[key] = feature
                if len(cache) < self.sentence_cache_size:
                    cache[key] = feature
        return torch.stack([cache[k] if k in cache else found[k] for k in keys])

    def attribute_logits(self, data_samples: List[ActionDataSample],
                         class_features: Optional[TextFeatures] = None
                         ) -> torch.Tensor:
        """Raw cosine logits ``(B, A)`` of each sample's sentence vs every class."""
        cls = (class_features or self.class_text_features())[0]
        sentences = self.sentence_features(self.attribute_tokens(data_samples))
        return self.attribute_head(sentences, cls)

    # ---------------------------------------------------------------- modes
    def forward(self, inputs, data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            outputs = {}
            if self.with_video:
                outputs['video'] = self.view_logits(inputs)
            if data_samples is not None:
                outputs['attributes'] = self.attribute_logits(data_samples)
            return outputs
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs, data_samples: List[ActionDataSample]
             ) -> Dict[str, torch.Tensor]:
        losses = {}
        if self.with_video:
            video = super().loss(inputs, data_samples)['loss']
            losses['loss_video'] = self.loss_weights['video'] * video
        losses['loss_attributes'] = (self.loss_weights['attributes']
                                     * self.attribute_loss(data_samples))
        return losses

    def attribute_loss(self, data_samples: List[ActionDataSample]) -> torch.Tensor:
        """Symmetric loss of sentences vs the batch's category texts
        (docs/method.md#attributes)."""
        sentences = self.sentence_features(self.attribute_tokens(data_samples))
        labels = torch.stack([sample.gt_label.reshape(-1)[0]
                              for sample in data_samples]).to(sentences.device)
        cls = self.class_text_features()[0][labels]
        if self.gather_across_ranks and get_world_size() > 1:
            sentences = all_gather_with_grad(sentences)
            cls = all_gather_with_grad(cls)
            labels = all_gather_with_grad(labels)
        logits = self.backbone.logit_scale.exp() * self.attribute_head(sentences, cls)
        targets = same_label_targets(labels).to(logits.dtype)
        return self.loss_module(logits, targets)

    @torch.no_grad()
    def predict(self, inputs, data_samples: List[ActionDataSample]
                ) -> List[ActionDataSample]:
        class_features = self.class_text_features()
        # The official attributes evaluation: softmax of the raw head logits.
        attribute = F.softmax(self.attribute_logits(data_samples, class_features), -1)
        video = None
        fused = attribute
        if self.with_video:
            video = aggregate_views(self.view_logits(inputs, class_features),
                                    self.aggregation)
            w_video, w_attr = self.fusion_weights
            fused = w_video * video + w_attr * attribute
        for index, sample in enumerate(data_samples):
            sample.set_field(attribute[index], 'attribute_score')
            if video is not None:
                sample.set_field(video[index], 'video_score')
            sample.set_pred_score(fused[index])
            sample.set_pred_label(fused[index].argmax(dim=-1, keepdim=True))
        return data_samples

    def train(self, mode: bool = True):
        if mode and self.backbone.text_trainable:
            self._sentence_cache = {}
        return super().train(mode)
