"""Two distributions installed into one package folder are reported."""
from __future__ import annotations

from bike_bench import install_checks


def _fake_dist(site, name: str, version: str, files) -> None:
    info = site / f'{name.replace("-", "_")}-{version}.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(
        f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n')
    (info / 'RECORD').write_text(''.join(f'{f},,\n' for f in files))


def test_two_opencv_wheels_in_one_folder(tmp_path):
    _fake_dist(tmp_path, 'opencv-python', '5.0.0.93',
               ['cv2/__init__.py', 'cv2/config.py'])
    _fake_dist(tmp_path, 'opencv-contrib-python', '5.1.0.95',
               ['cv2/__init__.py', 'cv2/config.py', 'cv2/data/__init__.py'])
    _fake_dist(tmp_path, 'numpy', '2.4.6', ['numpy/__init__.py'])
    clashes = install_checks.shared_packages([str(tmp_path)])
    assert [c['package'] for c in clashes] == ['cv2']
    assert clashes[0]['distributions'] == [
        {'name': 'opencv-contrib-python', 'version': '5.1.0.95'},
        {'name': 'opencv-python', 'version': '5.0.0.93'}]
    line = install_checks.describe(clashes[0])
    assert 'opencv-python 5.0.0.93' in line and 'same folder cv2/' in line


def test_one_opencv_and_namespace_folders_are_fine(tmp_path):
    _fake_dist(tmp_path, 'opencv-contrib-python', '5.1.0.95', ['cv2/__init__.py'])
    # Namespace packages (no __init__.py) are shared by design.
    _fake_dist(tmp_path, 'nvidia-cublas', '13.1', ['nvidia/cublas/__init__.py'])
    _fake_dist(tmp_path, 'nvidia-cudnn', '9.2', ['nvidia/cudnn/__init__.py'])
    assert install_checks.shared_packages([str(tmp_path)]) == []


def test_separate_site_folders_do_not_clash(tmp_path):
    first, second = tmp_path / 'a', tmp_path / 'b'
    first.mkdir()
    second.mkdir()
    _fake_dist(first, 'opencv-python', '5.0.0.93', ['cv2/__init__.py'])
    _fake_dist(second, 'opencv-contrib-python', '5.1.0.95', ['cv2/__init__.py'])
    assert install_checks.shared_packages([str(first), str(second)]) == []
