"""Video-to-Text attributes: generation, the JSON layout, sentences (spec §4)."""
from .sentences import (SENTENCE_PREFIX, AttributesFileError, build_sentence,
                        meta_path, read_attributes, read_meta)

__all__ = ['SENTENCE_PREFIX', 'AttributesFileError', 'build_sentence',
           'meta_path', 'read_attributes', 'read_meta']
