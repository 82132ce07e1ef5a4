"""toolkit's own code in cache keys: an installed wheel by its version and RECORD (one stat), a checkout by
every file of the package; each changed alone changes the identity, and an editable install is never
taken for an installed one."""

from __future__ import annotations

import json
import os

import pytest

from toolkit.support.code_identity import identity_of, toolkit_identity


def wheel(site, version="1.0.0"):
    """A package as pip installs a wheel: the package folder and its dist-info side by side."""
    package = site / "toolkit"
    (package / "pipelines").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "pipelines" / "schema.json").write_text("{}")
    info = site / f"dataenv_toolkit-{version}.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("toolkit/__init__.py,sha256=x,0\n")
    return package, info


def test_an_installed_wheel_is_named_by_its_record(tmp_path):
    package, info = wheel(tmp_path)
    before = identity_of(package, "1.0.0")
    assert before.startswith("installed 1.0.0")
    assert identity_of(package, "1.0.0") == before
    (info / "RECORD").unlink()  # reinstalled: pip writes the RECORD anew
    (info / "RECORD").write_text("toolkit/__init__.py,sha256=x,0\n")
    assert identity_of(package, "1.0.0") != before


def test_another_version_beside_it_is_another_identity(tmp_path):
    package, _ = wheel(tmp_path)
    assert identity_of(package, "1.0.0") != identity_of(package, "2.0.0")


def test_an_editable_install_is_a_checkout(tmp_path):
    package, info = wheel(tmp_path)
    (info / "direct_url.json").write_text(json.dumps({"dir_info": {"editable": True}, "url": "file:///x"}))
    assert identity_of(package, "1.0.0").startswith("checkout")


@pytest.mark.parametrize("change", ["module", "schema", "new file"])
def test_a_checkout_changes_with_any_file_of_the_package(tmp_path, change):
    package = tmp_path / "src" / "toolkit"
    (package / "pipelines" / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "pipelines" / "schema.json").write_text("{}")
    before = identity_of(package, "1.0.0")
    assert before.startswith("checkout")
    (package / "pipelines" / "__pycache__" / "x.pyc").write_bytes(b"compiled")  # not the code itself
    assert identity_of(package, "1.0.0") == before
    if change == "module":
        path = package / "__init__.py"
        stat = path.stat()
        path.write_text("x = 1")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # mtime put back: ctime still moves
    elif change == "schema":
        (package / "pipelines" / "schema.json").write_text('{"type": "object"}')
    else:
        (package / "pipelines" / "extra.py").write_text("")
    assert identity_of(package, "1.0.0") != before


def test_this_toolkit_has_one():
    assert toolkit_identity() and toolkit_identity() is toolkit_identity()
