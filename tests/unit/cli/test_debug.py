"""`--debug`: tracebacks for internal errors only, and every line of them masked."""

from __future__ import annotations

import pytest
import typer

from toolkit.cli.invocation import OPTIONS, command
from toolkit.errors import DatabaseError
from toolkit.support import masking

PASSWORD = "pw-debug-7f3a9c"


@pytest.fixture
def debug():
    saved = OPTIONS.debug
    OPTIONS.debug = True
    yield
    OPTIONS.debug = saved


def run(fn) -> int:
    with pytest.raises(typer.Exit) as exit_info:
        command(fn)()
    return exit_info.value.exit_code


def test_a_user_error_shows_no_traceback_even_with_debug(debug, capsys):
    masking.register(PASSWORD)

    def fails():
        try:  # what a driver does: echo the statement, password and all
            raise RuntimeError(f"syntax error in ALTER ROLE app PASSWORD '{PASSWORD}'")
        except RuntimeError as exc:
            raise DatabaseError("cannot provision the role app") from exc

    assert run(fails) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and PASSWORD not in err
    assert "error: cannot provision the role app" in err


def test_an_internal_error_shows_its_traceback_masked_with_debug(debug, capsys):
    masking.register(PASSWORD)

    def crashes():
        try:
            raise ValueError(f"cannot parse postgresql://app:{PASSWORD}@db/x")
        except ValueError as exc:
            raise KeyError(f"while reading {PASSWORD}") from exc

    assert run(crashes) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err and "ValueError" in err
    assert PASSWORD not in err
    assert "***" in err


def test_an_internal_error_shows_no_traceback_without_debug(capsys):
    def crashes():
        raise KeyError("boom")

    assert run(crashes) == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error: KeyError" in err and "--debug" in err


def test_a_logged_exception_is_masked_traceback_included():
    import io
    import logging

    from toolkit.cli.console import configure_logging

    masking.register(PASSWORD)
    logger = logging.getLogger("toolkit")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    configure_logging(verbose=False, quiet=False)
    stream = io.StringIO()
    logger.handlers[0].setStream(stream)
    try:
        raise RuntimeError(f"password {PASSWORD} refused")
    except RuntimeError:
        logging.getLogger("toolkit.test").warning("it failed", exc_info=True)
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    text = stream.getvalue()
    assert "RuntimeError" in text and PASSWORD not in text
