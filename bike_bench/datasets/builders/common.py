"""The names every builder shares, from the modules that hold them:
``sources`` (reading source files: ``SourceError``, lists, CSVs, paths),
``context`` (``BuildSpec``, ``BuildContext``) and ``result``
(``BuildResult``, ``Dropped``, ``Issue``); the build contract is
``contract``."""
from bike_bench.datasets.builders.context import (  # noqa: F401
    BuildContext, BuildSpec, list_entries, load_classes)
from bike_bench.datasets.builders.result import (  # noqa: F401
    BuildResult, BuiltManifest, Dropped, Issue, entry_key)
from bike_bench.datasets.builders.sources import (  # noqa: F401
    LIST_KINDS, ListRecord, SourceError, clean_path, count_frames, csv_records,
    format_pattern, instance_video_id, join_media, numbered_lines,
    parse_float, parse_int, parse_list, path_stem, read_text)
