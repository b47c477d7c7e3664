"""Video-to-Text attributes: generation, the JSON layout, sentences
(docs/method.md#attributes)."""
from bike_bench.datasets.attribute_sentences import (SENTENCE_PREFIX, AttributesFileError,
                                                     build_sentence, meta_path,
                                                     read_attributes, read_meta)

__all__ = ['SENTENCE_PREFIX', 'AttributesFileError', 'build_sentence',
           'meta_path', 'read_attributes', 'read_meta']
