from .decoding import VideoDecode, VideoInit, VideoReadError
from .sampling import BIKESampleFrames, test_indices, train_indices, val_indices
from .spatial import (BIKECenterCrop, OfficialRandomResizedCrop,
                      OfficialThreeCrop, RandomGrayscale, RandomHorizontalFlip,
                      ShortSideResize)

__all__ = [
    'VideoInit', 'VideoDecode', 'VideoReadError', 'BIKESampleFrames',
    'val_indices', 'test_indices', 'train_indices', 'ShortSideResize',
    'BIKECenterCrop', 'OfficialThreeCrop', 'OfficialRandomResizedCrop',
    'RandomHorizontalFlip', 'RandomGrayscale'
]
