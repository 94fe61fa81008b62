"""How every `lane-engine` command reports errors: one line on stderr and an exit status."""

from __future__ import annotations

import pytest

from lane_engine.cli.args import UsageError, run_command
from lane_engine.errors import JournalError, LaneError


def _raise(exc: Exception) -> int:
    raise exc


def test_the_commands_status_is_returned() -> None:
    assert run_command("prog", lambda: 7) == 7


def test_a_usage_error_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command("prog", lambda: _raise(UsageError("--last must be 0 or more"))) == 2
    assert capsys.readouterr().err == "prog: error: --last must be 0 or more\n"


def test_a_lane_error_is_one_line_and_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command("prog", lambda: _raise(JournalError("no journal"))) == 1
    assert capsys.readouterr().err == "prog: error: no journal\n"


def test_failures_and_their_status_are_the_callers(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command("sim", lambda: _raise(KeyError("k")), failures=(KeyError,),
                       failure_status=3) == 3
    assert capsys.readouterr().err.startswith("sim: error: ")
    with pytest.raises(LaneError):  # not among the failures: it goes on up
        run_command("sim", lambda: _raise(LaneError("x")), failures=(KeyError,))
