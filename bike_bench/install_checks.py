"""Checks of the installed environment that pip itself does not make.

pip lets two distributions write the same files: ``opencv-python`` (asked
for by mmengine and mmcv-lite) and ``opencv-contrib-python`` (asked for by
mmaction2) both install ``cv2/``. The package then imported is whichever
was unpacked last, while metadata (and any results file that records
versions) names the other one. ``bike-bench doctor`` reports such clashes.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
from typing import Dict, Iterable, List, Optional


# A top-level package's __init__.py in a RECORD (first field of a line).
_TOP_LEVEL_INIT = re.compile(r'^([^/,\n]+)/__init__\.py,', re.MULTILINE)


def _location(dist) -> str:
    return os.path.normpath(str(dist.locate_file('')))


def shared_packages(paths: Optional[Iterable[str]] = None) -> List[Dict[str, object]]:
    """Top-level packages that two or more distributions install into the same folder.

    Args:
        paths: site folders to look in (default: ``sys.path``).

    Returns:
        one entry per clash, sorted by package: ``package`` (the top-level
        folder, e.g. ``'cv2'``), ``location`` (the site folder) and
        ``distributions`` (``[{'name', 'version'}]``, sorted by name).
        Namespace folders (no ``__init__.py`` recorded) are not clashes.
    """
    owners: Dict[tuple, Dict[str, str]] = {}
    kwargs = {'path': list(paths)} if paths is not None else {}
    for dist in importlib.metadata.distributions(**kwargs):
        # RECORD read as text: parsing every entry of torch's RECORD into
        # paths takes seconds.
        record = dist.read_text('RECORD') or ''
        name = dist.metadata.get('Name') or '?'
        for package in _TOP_LEVEL_INIT.findall(record):
            if not package.endswith(('.dist-info', '.egg-info')):
                owners.setdefault((_location(dist), package), {})[name] = dist.version
    clashes = []
    for (location, package), dists in sorted(owners.items(), key=lambda kv: kv[0][1]):
        if len(dists) > 1:
            clashes.append({'package': package, 'location': location,
                            'distributions': [{'name': n, 'version': v}
                                              for n, v in sorted(dists.items())]})
    return clashes


def describe(clash: Dict[str, object]) -> str:
    """One warning line for a clash from ``shared_packages``."""
    names = [f"{d['name']} {d['version']}" for d in clash['distributions']]
    keep = 'opencv-contrib-python' if clash['package'] == 'cv2' else names[0].split()[0]
    return (f"{' and '.join(names)} are installed into the same folder "
            f"{clash['package']}/ in {clash['location']}; the one imported is whichever "
            f"was unpacked last. Keep one: pip uninstall -y "
            f"{' '.join(d['name'] for d in clash['distributions'])} && "
            f"pip install --no-deps {keep}")
