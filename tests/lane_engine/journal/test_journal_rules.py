"""The rules both journals share, decided without a journal."""

from __future__ import annotations

import pytest

from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.errors import JournalError
from lane_engine.journal.api import EntryState, JournalFilter
from lane_engine.journal.rules import (
    check_reopened_intent,
    decide_close,
    filter_criteria,
    resolved_record,
    updated_intent,
)
from tests.lane_engine.journal.journal_records import debited, intent

CLOSED, OPEN, DUPLICATE = EntryState.CLOSED, EntryState.OPEN, EntryState.DUPLICATE


@pytest.mark.parametrize(
    ("stored", "holder", "reply_with", "twin"),
    [
        (None, None, None, False),  # never seen: written
        ((OPEN, Outcome.UNRESOLVED, None), None, None, False),
        ((CLOSED, Outcome.UNRESOLVED, None), "L01-000001", None, False),  # superseded
        ((CLOSED, Outcome.DEBITED, None), "L01-000001", "L01-000001", False),
        ((DUPLICATE, Outcome.UNRESOLVED, "L01-000009"), None, "L01-000009", False),
        ((OPEN, Outcome.UNRESOLVED, None), "L01-000009", "L01-000009", True),
        (None, "L01-000009", "L01-000009", True),
    ],
)
def test_what_a_close_does_given_what_is_journaled(
        stored: tuple[EntryState, Outcome, str | None] | None, holder: str | None,
        reply_with: str | None, twin: bool) -> None:
    decision = decide_close(debited(1), stored, holder)
    assert (decision.reply_with, decision.mark_twin) == (reply_with, twin)


def test_reopening_the_same_open_intent_is_a_no_op_anything_else_an_error() -> None:
    check_reopened_intent(intent(1), OPEN, intent(1))
    for state, stored in ((OPEN, intent(1, fee=1)), (CLOSED, intent(1)), (None, None)):
        with pytest.raises(JournalError, match="already journaled"):
            check_reopened_intent(intent(1), state, stored)


def test_an_update_keeps_outcome_and_id_and_needs_an_open_intent() -> None:
    updated = updated_intent("L01-000001", intent(1), ctc=7, terminal_trans_serial=8,
                             changes={"balance_after": 5})
    assert (updated.ctc, updated.terminal_trans_serial, updated.balance_after) == (7, 8, 5)
    with pytest.raises(JournalError, match="cannot change the outcome"):
        updated_intent("L01-000001", intent(1), ctc=7, terminal_trans_serial=8,
                       changes={"outcome": Outcome.DEBITED})
    with pytest.raises(JournalError, match="no open intent"):
        updated_intent("L01-000001", None, ctc=7, terminal_trans_serial=8, changes={})
    with pytest.raises(JournalError, match="cannot update intent"):
        updated_intent("L01-000001", intent(1), ctc=7, terminal_trans_serial=8,
                       changes={"no_such_field": 1})


def test_a_resolved_record_is_marked_recovered_unless_told_otherwise() -> None:
    assert resolved_record("L01-000001", intent(1), Outcome.DEBITED, {}).recovered
    assert not resolved_record("L01-000001", intent(1), Outcome.DEBITED,
                               {"recovered": False}).recovered
    with pytest.raises(JournalError, match="no open intent"):
        resolved_record("L01-000001", None, Outcome.DEBITED, {})


def test_filter_criteria_name_only_what_the_filter_gives() -> None:
    assert filter_criteria(JournalFilter()) == []
    selection = JournalFilter(since=1.0, until=2.0, reason=ReasonCode.OK, state=CLOSED, limit=3)
    assert filter_criteria(selection) == [
        ("recorded_at", ">=", 1.0), ("recorded_at", "<", 2.0), ("reason", "=", ReasonCode.OK),
        ("state", "=", CLOSED)]
