from .bike_recognizer import BIKERecognizer, aggregate_views
from .video_attribute_recognizer import BIKEVideoAttributeRecognizer

__all__ = ['BIKERecognizer', 'BIKEVideoAttributeRecognizer', 'aggregate_views']
