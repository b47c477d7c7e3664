"""BIKE's video branch as an MMEngine model with MMAction2's three modes."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.dist import get_world_size

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from bike_bench.datasets.class_table import resolve_class_names
from bike_bench.models.data_preprocessors.clip_preprocessor import with_model_statistics
from bike_bench.models.distributed import all_gather_with_grad
from bike_bench.models.fast_path import FastPath, InferenceEncoder
from bike_bench.models.losses import LOSS_ALIASES, same_label_targets

DEFAULT_TEMPLATE = 'This is a video about {}'


def aggregate_views(view_logits: torch.Tensor, how: str = 'official') -> torch.Tensor:
    """Scores per video from raw per-view logits ``(B, V, A)``.

    ``official``: softmax per view, mean over views, softmax again (the
    official test script); ``mean``: mean of per-view probabilities.
    """
    probs = F.softmax(view_logits, dim=-1).mean(dim=1)
    if how == 'official':
        return F.softmax(probs, dim=-1)
    if how == 'mean':
        return probs
    raise ValueError(f'unknown aggregation {how!r}; use "official" or "mean"')


def _drop_fast_encoder(module, incompatible_keys) -> None:
    """New weights: the evaluation copy is rebuilt on next use."""
    module._fast_encoder = None


@MODELS.register_module()
class BIKERecognizer(BaseModel):
    """CLIP encoders + Video Concept Spotting head + symmetric loss.

    Args:
        backbone: ``CLIPEncoder`` config.
        video_head: ``BIKEVideoHead`` config; ``embed_dim`` and ``num_heads``
            default to the backbone's (heads = text width / 64 where that divides
            the joint width; see default_num_heads).
        loss: a registered loss config, or ``'NCE'`` / ``'DS'`` /
            ``'InfoNCE'``.
        class_names: the class table path or a list of names; may also be
            set later from the dataset (``set_class_names``).
        num_classes: if given, the class list must have this many names.
        prompt_template: class prompt (official: ``'This is a video about {}'``).
        aggregation: multi-view score aggregation, ``'official'`` or ``'mean'``.
        cache_text_features: reuse class text features while the text tower
            cannot change (evaluation; training with a frozen text tower).
        gather_across_ranks: all-gather features before the loss when
            distributed (the official global batch).
        inference_mode: run evaluation under ``torch.inference_mode``.
        autocast_dtype: ``'bfloat16'`` / ``'float16'`` to run the image
            encoder under autocast (GPUs); ``None`` keeps fp32.
        channels_last: feed frames to the image encoder in channels-last
            memory format (faster convolutions on GPUs).
        compile_image_encoder: wrap the image encoder in ``torch.compile``.
        fast_path: the evaluation image encoder (``bike_bench.models.fast_path``):
            ``'auto'`` (default: fused attention, bf16 weights, compile and
            CUDA graphs on CUDA; the official fp32 computation elsewhere),
            ``'off'`` (official fp32 everywhere), ``'gpu'`` or a dict of
            levers. Used only without gradients in eval mode; training and
            saliency maps always take the regular path.
    """

    def __init__(self, backbone: dict, video_head: dict,
                 loss: Union[str, dict] = 'NCE',
                 class_names: Optional[Union[str, Sequence[str]]] = None,
                 num_classes: Optional[int] = None,
                 prompt_template: str = DEFAULT_TEMPLATE,
                 aggregation: str = 'official',
                 cache_text_features: bool = True,
                 gather_across_ranks: bool = True,
                 inference_mode: bool = True,
                 autocast_dtype: Optional[str] = None,
                 channels_last: bool = False,
                 compile_image_encoder: bool = False,
                 fast_path: Union[None, str, dict] = 'auto',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='CLIPDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # Frames are normalised with the backbone's own statistics.
            data_preprocessor = with_model_statistics(data_preprocessor, backbone)
            # Built here so mmaction's registry is searched whatever the
            # default scope of the caller.
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        head_cfg = dict(video_head)
        head_cfg.setdefault('type', 'BIKEVideoHead')
        head_cfg.setdefault('embed_dim', self.backbone.embed_dim)
        head_cfg.setdefault('num_heads', self.backbone.default_num_heads)
        self.video_head = MODELS.build(head_cfg)
        if isinstance(loss, str):
            loss = dict(type=LOSS_ALIASES.get(loss, loss))
        self.loss_module = MODELS.build(loss)
        self.num_classes = num_classes
        self.prompt_template = prompt_template
        if aggregation not in ('official', 'mean'):
            raise ValueError(f'unknown aggregation {aggregation!r}')
        self.aggregation = aggregation
        self.cache_text_features = cache_text_features
        self.gather_across_ranks = gather_across_ranks
        self.inference_mode = inference_mode
        if autocast_dtype not in (None, 'bfloat16', 'float16'):
            raise ValueError(f'autocast_dtype must be None, bfloat16 or float16, '
                             f'not {autocast_dtype!r}')
        self.autocast_dtype = autocast_dtype
        self.channels_last = channels_last
        self._image_encoder = (torch.compile(self.backbone.encode_image)
                               if compile_image_encoder else self.backbone.encode_image)
        FastPath.resolve(fast_path, torch.device('cpu'))  # validate early
        self.fast_path = fast_path
        self._fast_encoder: Optional[Tuple[tuple, InferenceEncoder]] = None
        self.register_load_state_dict_post_hook(_drop_fast_encoder)
        self.text_encoder_calls = 0
        self._text_cache: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
        self.class_names: List[str] = []
        self.class_source = None
        if class_names is not None:
            self.set_class_names(class_names)

    # ------------------------------------------------------------------ text
    def set_class_names(self, class_names, source: Optional[str] = None) -> None:
        """Use a new class set; drops cached text features if it changed."""
        names = resolve_class_names(class_names)
        source = source or (class_names if isinstance(class_names, str)
                            else 'the given class list')
        if self.num_classes is not None and len(names) != self.num_classes:
            raise ValueError(
                f'{source} lists {len(names)} classes but the model is '
                f'configured for num_classes={self.num_classes}')
        if names != self.class_names:
            self._text_cache = None
        self.class_names = names
        self.class_source = source

    def clear_text_cache(self) -> None:
        """Forget cached class text features (the next use re-encodes)."""
        self._text_cache = None

    def prompts(self, names: Optional[Sequence[str]] = None) -> List[str]:
        names = self.class_names if names is None else names
        return [self.prompt_template.format(name) for name in names]

    def encode_texts(self, texts: Sequence[str]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Class and token features for arbitrary texts (counted)."""
        tokens = self.backbone.tokenize(texts).to(self.backbone.logit_scale.device)
        self.text_encoder_calls += 1
        cls, token_features = self.backbone.encode_text(tokens)
        return cls, token_features

    def class_text_features(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(A, D)`` class and ``(A, L, D)`` token features of all classes."""
        if not self.class_names:
            raise RuntimeError('BIKERecognizer has no class names: pass '
                               '`class_names` or call set_class_names()')
        reusable = self.cache_text_features and not (
            self.training and self.backbone.text_trainable)
        device = self.backbone.logit_scale.device
        if reusable and self._text_cache is not None \
                and self._text_cache[0].device == device:
            return self._text_cache
        if reusable:
            with torch.no_grad():
                features = self.encode_texts(self.prompts())
            self._text_cache = tuple(f.detach() for f in features)
            return self._text_cache
        # The text tower is being trained: its features change every step.
        self._text_cache = None
        return self.encode_texts(self.prompts())

    # ---------------------------------------------------------------- video
    def frame_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Per-frame features ``(B, V, T, D)`` of normalised clips.

        ``inputs`` is ``(B, V, C, T, H, W)`` (mmaction's NCTHW per view); all
        views and frames of the batch go through the image encoder at once.
        """
        if inputs.dim() == 5:  # (B, C, T, H, W): one view per video
            inputs = inputs.unsqueeze(1)
        batch, views, channels, frames, height, width = inputs.shape
        images = inputs.transpose(2, 3).reshape(-1, channels, height, width)
        fast = self.fast_encoder(images.device)
        if fast is not None:
            return fast(images).reshape(batch, views, frames, -1)
        if images.dtype != torch.float32 and self.autocast_dtype is None:
            images = images.float()  # e.g. bf16 from the data preprocessor
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        if self.autocast_dtype is not None:
            with torch.autocast(images.device.type,
                                dtype=getattr(torch, self.autocast_dtype)):
                features = self._image_encoder(images)
            features = features.float()
        else:
            features = self._image_encoder(images)
        return features.reshape(batch, views, frames, -1)

    def fast_encoder(self, device: torch.device) -> Optional[InferenceEncoder]:
        """The evaluation image encoder for ``device``, or ``None`` for the
        regular path (training, gradients enabled, or the fast path off)."""
        if self.training or torch.is_grad_enabled():
            return None
        config = FastPath.resolve(self.fast_path, device)
        if not config.enabled:
            return None
        key = (str(device), config)
        if self._fast_encoder is None or self._fast_encoder[0] != key:
            self._fast_encoder = (key, InferenceEncoder(self.backbone.clip.visual,
                                                        config, device))
        return self._fast_encoder[1]

    def fast_path_record(self, device: Optional[torch.device] = None) -> dict:
        """What evaluation on ``device`` uses: the setting, the levers, and
        each lever's status once the encoder was built (for results files)."""
        device = device or self.backbone.logit_scale.device
        config = FastPath.resolve(self.fast_path, torch.device(device))
        record = {'setting': self.fast_path, 'device': str(device),
                  'levers': config.as_dict(),
                  'official_fp32': not config.enabled}
        if self._fast_encoder is not None and self._fast_encoder[0][0] == str(device):
            record['status'] = dict(self._fast_encoder[1].status)
        return record

    def view_logits(self, inputs: torch.Tensor,
                    class_features: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
                    ) -> torch.Tensor:
        """Raw cosine logits ``(B, V, A)`` for every view of every video."""
        features = self.frame_features(inputs)
        batch, views = features.shape[:2]
        cls, tokens = class_features or self.class_text_features()
        logits = self.video_head(features.flatten(0, 1), tokens, cls)
        return logits.reshape(batch, views, -1)

    # ---------------------------------------------------------------- modes
    def forward(self, inputs: torch.Tensor,
                data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.view_logits(inputs)
        raise RuntimeError(f'Invalid mode "{mode}"; use loss, predict or tensor')

    def loss(self, inputs: torch.Tensor,
             data_samples: List[ActionDataSample]) -> Dict[str, torch.Tensor]:
        features = self.frame_features(inputs)
        if features.shape[1] != 1:
            raise ValueError('training takes one clip per video, got '
                             f'{features.shape[1]} views')
        features = features[:, 0]
        labels = torch.stack([sample.gt_label.reshape(-1)[0]
                              for sample in data_samples]).to(features.device)
        cls_all, tokens_all = self.class_text_features()
        cls, tokens = cls_all[labels], tokens_all[labels]
        if self.gather_across_ranks and get_world_size() > 1:
            features = all_gather_with_grad(features)
            cls = all_gather_with_grad(cls)
            tokens = all_gather_with_grad(tokens)
            labels = all_gather_with_grad(labels)
        logit_scale = self.backbone.logit_scale.exp()
        logits = logit_scale * self.video_head(features, tokens, cls)
        targets = same_label_targets(labels).to(logits.dtype)
        return dict(loss=self.loss_module(logits, targets))

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: List[ActionDataSample]) -> List[ActionDataSample]:
        # Text features are cached outside inference mode: inference tensors
        # could not be reused by a later training step.
        class_features = self.class_text_features()
        context = torch.inference_mode() if self.inference_mode else torch.no_grad()
        with context:
            logits = self.view_logits(inputs, class_features)
        scores = aggregate_views(logits, self.aggregation).clone()
        for sample, score in zip(data_samples, scores):
            sample.set_pred_score(score)
            sample.set_pred_label(score.argmax(dim=-1, keepdim=True))
        return data_samples

    def train(self, mode: bool = True):
        # Leaving eval for training may change a trainable text tower.
        if mode and self.backbone.text_trainable:
            self._text_cache = None
        if mode:
            self._fast_encoder = None  # training changes the weights it copied
        return super().train(mode)
