"""One file hashing helper, used by every checksum of the package."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from bike_bench.utils.hashing import file_sha256

PACKAGE = Path(__file__).resolve().parents[2] / 'bike_bench'


def test_file_digest_is_sha256_and_follows_changes(tmp_path):
    path = tmp_path / 'weights.pth'
    path.write_bytes(b'abc')
    assert file_sha256(str(path)) == hashlib.sha256(b'abc').hexdigest()
    path.write_bytes(b'abcd')  # another size: not the cached digest
    os.utime(path, ns=(1, 1))
    assert file_sha256(str(path)) == hashlib.sha256(b'abcd').hexdigest()


def test_folder_digest_covers_its_files_by_name(tmp_path):
    (tmp_path / 'b.txt').write_bytes(b'2')
    (tmp_path / 'a.txt').write_bytes(b'1')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'c.txt').write_bytes(b'3')  # not entered
    lines = ''.join(f'{name}\0{hashlib.sha256(data).hexdigest()}\n'
                    for name, data in (('a.txt', b'1'), ('b.txt', b'2')))
    assert file_sha256(str(tmp_path)) == hashlib.sha256(lines.encode()).hexdigest()


def test_no_other_file_hashing_function_in_the_package():
    defined = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob('*.py')
               if re.search(r'^def \w*sha256\w*\(', p.read_text(encoding='utf-8'), re.M)]
    assert defined == ['utils/hashing.py']
