"""The folder above every server kept outside its state folder (/var/lib/toolkit-postgres): whoever makes
it first, under the CLI's umask 077, must leave it passable for the server's unprivileged user, or the
first server ever kept there is refused (`the local PostgreSQL ... cannot enter ... (mode 0700)`)."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager

from toolkit.deploy.paths import enterable_outside_root


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_made_under_umask_077_it_is_passable_not_listable(tmp_path):
    root = tmp_path / "var" / "lib" / "toolkit-postgres"
    with umask(0o077):
        assert enterable_outside_root(root) == root
    assert mode(root) == 0o711


def test_one_of_ours_left_0700_by_an_earlier_run_is_let_through_and_nothing_else_changes(tmp_path):
    root = tmp_path / "toolkit-postgres"
    root.mkdir(mode=0o700)
    root.chmod(0o700)
    with umask(0o077):
        enterable_outside_root(root)
        enterable_outside_root(root)
    assert mode(root) == 0o711
    root.chmod(0o755)
    enterable_outside_root(root)
    assert mode(root) == 0o755  # already passable: left as its owner set it
