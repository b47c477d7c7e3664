from .interactions import DPInteraction, VCSInteraction
from .temporal import NoneHeader, TransfHeader
from .video_head import BIKEVideoHead

__all__ = ['BIKEVideoHead', 'TransfHeader', 'NoneHeader', 'VCSInteraction',
           'DPInteraction']
