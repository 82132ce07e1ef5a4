"""Loggers that import `logging` only when a record is written: a record below the CLI's level never
imports it, the first one at or above it sets up the masking handler before it is written (so even that
first record is masked), and with `logging` already imported everything goes straight to it. Each probe
runs in a fresh interpreter: this one has `logging` imported by pytest."""

from __future__ import annotations

import subprocess
import sys

SECRET = "s3cret-not-for-logs"

PROBE = f"""
import sys
from toolkit.cli.console import configure_logging
from toolkit.support import masking
from toolkit.support.log import get_logger

masking.register({SECRET!r})
configure_logging(verbose=False, quiet=False)
log = get_logger("toolkit.probe")
log.debug("debug with %s", {SECRET!r})
log.info("info")
print("after debug and info:", "logging" in sys.modules, flush=True)
log.warning("warning with %s", {SECRET!r})
print("after warning:", "logging" in sys.modules, flush=True)
"""


def probe(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)


def test_records_below_the_level_import_nothing_and_the_first_shown_one_is_masked():
    result = probe(PROBE)
    assert result.stdout.splitlines() == ["after debug and info: False", "after warning: True"]
    assert "WARNING toolkit.probe: warning with ***" in result.stderr
    assert SECRET not in result.stderr and "debug with" not in result.stderr and "info" not in result.stderr


def test_verbose_shows_debug_records_masked():
    result = probe(PROBE.replace("verbose=False", "verbose=True"))
    assert "DEBUG toolkit.probe: debug with ***" in result.stderr and SECRET not in result.stderr


def test_quiet_shows_only_errors():
    code = PROBE.replace("quiet=False", "quiet=True") + "log.error('an error')\n"
    result = probe(code)
    assert "warning with" not in result.stderr and "ERROR toolkit.probe: an error" in result.stderr


def test_with_logging_imported_first_the_handler_is_set_up_at_once():
    result = probe("import logging\n" + PROBE)
    assert result.stdout.splitlines() == ["after debug and info: True", "after warning: True"]
    assert "warning with ***" in result.stderr and SECRET not in result.stderr


def test_without_the_cli_records_go_to_logging_as_they_always_did():
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format='%(levelname)s %(name)s %(message)s')\n"
        "from toolkit.support.log import get_logger\n"
        "get_logger('toolkit.lib').debug('as a library %s', 1)\n"
    )
    assert probe(code).stdout == "DEBUG toolkit.lib as a library 1\n"
