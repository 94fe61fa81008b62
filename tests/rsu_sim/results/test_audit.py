"""The audit passes a genuine run and catches every kind of disagreement planted in a copy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lane_engine.core.ledger import amend
from lane_engine.core.outcomes import Outcome
from lane_engine.journal import EntryState, JournalEntry
from rsu_sim.harness import JournalMode, SimulationOptions, run_to_directory
from rsu_sim.model.scenario import mixed_scenario
from rsu_sim.results.audit import AuditReport, audit, intended_amount
from rsu_sim.results.files import CardState, RunFiles, load_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunFiles:
    directory: Path = tmp_path_factory.mktemp("audit")
    run_to_directory(mixed_scenario(seed=11), directory, SimulationOptions(vehicles=300),
                     JournalMode.MEMORY)
    return load_run(directory)


def _audit(run: RunFiles, journal: list[JournalEntry] | None = None,
           cards: list[CardState] | None = None) -> AuditReport:
    return audit(journal if journal is not None else list(run.journal),
                 cards if cards is not None else list(run.cards), run.key_set)


def _debit_index(run: RunFiles) -> int:
    return next(i for i, e in enumerate(run.journal)
                if e.record.outcome is Outcome.DEBITED and e.record.tac)


def test_genuine_run_is_clean(run: RunFiles) -> None:
    report = _audit(run)
    assert report.clean, report.render()
    assert report.counts["card purchases"] == sum(len(c.log) for c in run.cards) > 0
    assert "audit: clean" in report.render()


def _tampered(run: RunFiles, **changes: object) -> list[JournalEntry]:
    journal = list(run.journal)
    i = _debit_index(run)
    journal[i] = replace(journal[i], record=amend(journal[i].record, **changes))
    return journal


@pytest.mark.parametrize("field, value, says", [
    ("amount_debited", 1, "fen"),
    ("balance_after", 7, "balance"),
    ("ctc", 60_000, "no matching purchase"),
])
def test_a_tampered_journal_record_is_caught(run: RunFiles, field: str, value: int,
                                             says: str) -> None:
    report = _audit(run, journal=_tampered(run, **{field: value}))
    assert not report.clean and any(says in p for p in report.problems), report.problems


def test_a_forged_tac_is_caught(run: RunFiles) -> None:
    record = run.journal[_debit_index(run)].record
    forged = f"{int(record.tac, 16) ^ 1:08x}"
    report = _audit(run, journal=_tampered(run, tac=forged))
    assert any("does not verify" in p for p in report.problems)
    assert any("differs from the card's" in p for p in report.problems)


def test_a_missing_journal_record_is_caught(run: RunFiles) -> None:
    journal = list(run.journal)
    del journal[_debit_index(run)]
    report = _audit(run, journal=journal)
    assert any("missing from the journal" in p for p in report.problems)


def test_a_second_record_for_one_debit_is_caught(run: RunFiles) -> None:
    journal = list(run.journal)
    entry = journal[_debit_index(run)]
    twin = amend(entry.record, transaction_id=entry.record.transaction_id + "-twin")
    journal.append(JournalEntry(twin, EntryState.CLOSED, 0.0, 0.0))
    report = _audit(run, journal=journal)
    assert any("charged twice" in p for p in report.problems)


def test_a_journal_twin_marked_duplicate_is_not_a_double_charge(run: RunFiles) -> None:
    journal = list(run.journal)
    entry = journal[_debit_index(run)]
    twin = amend(entry.record, transaction_id=entry.record.transaction_id + "-twin")
    journal.append(JournalEntry(twin, EntryState.DUPLICATE, 0.0, 0.0, entry.record.transaction_id))
    assert _audit(run, journal=journal).clean


def test_a_tampered_card_log_or_balance_is_caught(run: RunFiles) -> None:
    cards = list(run.cards)
    i = next(i for i, c in enumerate(cards) if any(e.amount for e in c.log))
    card = cards[i]
    j = next(j for j, e in enumerate(card.log) if e.amount)
    log = list(card.log)
    log[j] = replace(log[j], amount=log[j].amount + 100)
    cards[i] = replace(card, log=tuple(log))
    problems = _audit(run, cards=cards).problems
    assert any(card.card_number in p and "initial" in p for p in problems)
    assert any("TAC" in p and card.card_number in p for p in problems)
    cards[i] = replace(card, balance=card.balance - 1)
    assert any("final balance" in p for p in _audit(run, cards=cards).problems)


def test_a_not_debited_record_for_a_committed_purchase_is_caught(run: RunFiles) -> None:
    journal = _tampered(run, outcome=Outcome.NOT_DEBITED)
    problems = _audit(run, journal=journal).problems
    assert any("journal says not_debited but card" in p for p in problems)
    assert any("missing from the journal" in p for p in problems)


def test_intended_amount_of_unresolved_records(run: RunFiles) -> None:
    record = run.journal[_debit_index(run)].record
    assert intended_amount(record) == record.discounted_fee
    assert intended_amount(amend(record, mode="entry")) == 0
    assert intended_amount(amend(record, cash_fee=500)) == 0


def _two_logged_cards(run: RunFiles) -> tuple[int, int]:
    logged = [i for i, card in enumerate(run.cards) if card.log]
    return logged[0], logged[1]


def test_a_terminal_serial_used_twice_is_caught(run: RunFiles) -> None:
    cards = list(run.cards)
    a, b = _two_logged_cards(run)
    first = cards[a].log[0]
    reused = replace(cards[b].log[0], terminal_number=first.terminal_number,
                     terminal_trans_serial=first.terminal_trans_serial)
    cards[b] = replace(cards[b], log=(reused, *cards[b].log[1:]))
    report = _audit(run, cards=cards)
    assert any("used twice" in p for p in report.problems), report.problems


def test_a_serial_beyond_what_its_psam_reserved_is_caught(run: RunFiles) -> None:
    serials = {(e.terminal_number, e.terminal_trans_serial) for c in run.cards for e in c.log}
    reserved = {terminal: max(s for t, s in serials if t == terminal) + 1
                for terminal, _ in serials}
    assert audit(list(run.journal), list(run.cards), run.key_set, reserved).clean
    terminal = sorted(reserved)[0]
    reserved[terminal] -= 1
    report = audit(list(run.journal), list(run.cards), run.key_set, reserved)
    assert any("could be reused" in p for p in report.problems), report.problems


def test_without_lane_records_the_cards_are_checked_alone(run: RunFiles) -> None:
    report = audit(None, list(run.cards), run.key_set)
    assert report.clean and report.counts["card log TACs verified"] > 0
    cards = list(run.cards)
    a, _ = _two_logged_cards(run)
    cards[a] = replace(cards[a], balance=cards[a].balance + 1)
    assert not audit(None, cards, run.key_set).clean


def test_lane_records_as_json_lines(run: RunFiles, tmp_path: Path) -> None:
    import io
    import json

    from lane_engine.journal.codec import record_to_dict
    from lane_engine.journal.export import write_jsonl
    from rsu_sim.errors import OutputError
    from rsu_sim.results.lane_records import load_records

    exported = io.StringIO()
    write_jsonl(run.journal, exported)
    path = tmp_path / "records.jsonl"
    path.write_text(exported.getvalue(), encoding="utf-8")
    assert audit(load_records(path), list(run.cards), run.key_set).clean
    # As MQTT messages, each sent twice (an older copy after the newer one), any order.
    closed = [e for e in run.journal if e.state is not EntryState.DUPLICATE]
    lines = []
    for seq, entry in enumerate(closed, start=1):
        record = record_to_dict(entry.record)
        stale = {**record, "amount_debited": record["amount_debited"] + 1}
        lines += [json.dumps({"idempotency_key": "k", "seq": 2 * seq, "record": record}),
                  json.dumps({"idempotency_key": "k", "seq": 2 * seq - 1, "record": stale})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert audit(load_records(path), list(run.cards), run.key_set).clean
    path.write_text(lines[0] + "\n{\"transaction_id\": 3}\n", encoding="utf-8")
    with pytest.raises(OutputError, match="line 2"):
        load_records(path)


def test_an_a_cards_figure_stopping_at_zero_adds_up(run: RunFiles) -> None:
    from protocols.records import CardType

    cards = list(run.cards)
    index = next(i for i, c in enumerate(cards) if c.card_type == CardType.CREDIT and c.log)
    card = cards[index]
    first = card.log[0]
    small = first.amount // 2  # a figure below the first debit: it stops at 0
    log = tuple(replace(e, balance_after=0) for e in card.log)
    cards[index] = replace(card, initial_balance=small, balance=0, log=log)
    report = audit(list(run.journal), cards, run.key_set)
    assert not any(card.card_number in p and "purse" in p for p in report.problems), \
        report.problems
    cards[index] = replace(card, initial_balance=small, balance=0)
    report = audit(list(run.journal), cards, run.key_set)
    assert any(card.card_number in p and "the purse says 0" in p for p in report.problems)
