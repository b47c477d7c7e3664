from .interactions import DPInteraction, VCSInteraction
from .sentence_head import SentenceHead
from .temporal import NoneHeader, TransfHeader
from .video_head import BIKEVideoHead

__all__ = ['BIKEVideoHead', 'TransfHeader', 'NoneHeader', 'VCSInteraction',
           'DPInteraction', 'SentenceHead']
