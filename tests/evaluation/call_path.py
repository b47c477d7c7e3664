"""Follow a command's run call by call: which bike-bench files it stays in.

A *stay* is each time execution enters a file of the package (consecutive
calls in one file are one stay; returning to a file already left is a new
one). The path followed is the command's state: from the command's ``run``
function, every call of a package function that receives the parsed
arguments (``argparse.Namespace``) or the config made from them (MMEngine
``Config``), through package frames only -- what MMEngine's Runner calls
(hooks, the model, the dataset) is the config's business, not the path.
``state_only=False`` counts every package call on that chain instead.

A *climb* is a call from a file into a higher layer (``LAYERS``).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, List, Optional, Tuple

import bike_bench

PACKAGE = os.path.dirname(os.path.abspath(bike_bench.__file__)) + os.sep
# Highest first: cli > reproduction|benchmark|visualization|tools >
# evaluation > engine > models > datasets > core (everything else).
LAYERS = (('cli',), ('reproduction', 'benchmark', 'visualization', 'tools'),
          ('evaluation',), ('engine',), ('models',), ('datasets',))


def layer(path: str) -> int:
    """0 for the highest layer (cli) ... ``len(LAYERS)`` for core modules."""
    relative = os.path.relpath(path, PACKAGE) if os.path.isabs(path) else path
    top = relative.split(os.sep)[0]
    for number, names in enumerate(LAYERS):
        if top in names:
            return number
    return len(LAYERS)


def _carries_state(frame) -> bool:
    from mmengine.config import Config
    code = frame.f_code
    count = code.co_argcount + code.co_kwonlyargcount
    names = code.co_varnames[:count]
    return any(isinstance(frame.f_locals.get(name), (argparse.Namespace, Config))
               for name in names)


def follow(call: Callable[[], object], entry_file: str, entry_function: str = 'run',
           state_only: bool = True) -> Tuple[List[str], int]:
    """Run ``call()``; the stays (package-relative files, in order) from the
    first call of ``entry_function`` in ``entry_file`` (relative to the
    package, e.g. ``cli/test.py``), and the number of climbs."""
    entry_path = os.path.join(PACKAGE, entry_file)
    stays: List[str] = []
    climbs = [0]
    root: List[Optional[object]] = [None]  # the entry frame

    def on_path(frame) -> bool:
        node = frame
        while node is not None:
            if node is root[0]:
                return True
            if not node.f_code.co_filename.startswith(PACKAGE):
                return False
            node = node.f_back
        return False

    def visit(path: str) -> None:
        relative = os.path.relpath(path, PACKAGE)
        if not stays or stays[-1] != relative:
            stays.append(relative)

    def profile(frame, event, arg):
        if event not in ('call', 'return'):
            return
        filename = frame.f_code.co_filename
        if not filename.startswith(PACKAGE):
            return
        if root[0] is None:
            if event == 'call' and filename == entry_path \
                    and frame.f_code.co_name == entry_function:
                root[0] = frame
                visit(filename)
            return
        if frame is root[0]:
            if event == 'return':
                root[0] = False  # done
            return
        if root[0] is False or frame.f_code.co_name == '<module>':
            return
        if not on_path(frame.f_back) or (state_only and not _carries_state(frame)):
            return
        if event == 'call':
            if layer(filename) < layer(frame.f_back.f_code.co_filename):
                climbs[0] += 1
            visit(filename)
        else:  # back in the caller
            visit(frame.f_back.f_code.co_filename)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(previous)
    return stays, climbs[0]
