from .bike_recognizer import BIKERecognizer, aggregate_views

__all__ = ['BIKERecognizer', 'aggregate_views']
