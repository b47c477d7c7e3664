"""Manifests, MMAction2 datasets and transforms (registered on import)."""
from bike_bench import compat as _compat

_compat.apply()

from . import transforms  # noqa: E402,F401
from .class_table import read_class_table, write_class_table  # noqa: E402
from .manifest import (Manifest, ManifestEntry, ManifestError,  # noqa: E402
                       read_manifest, write_manifest)
from .video_dataset import ManifestVideoDataset, SeededSampler  # noqa: E402
from .attribute_dataset import AttributeVideoDataset  # noqa: E402
from . import fast_loading  # noqa: E402,F401  (registers stack_collate)

__all__ = [
    'Manifest', 'ManifestEntry', 'ManifestError', 'read_manifest',
    'write_manifest', 'read_class_table', 'write_class_table',
    'ManifestVideoDataset', 'SeededSampler', 'AttributeVideoDataset'
]
