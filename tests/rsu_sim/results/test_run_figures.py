"""The figures and table rows both run summaries share."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lane_engine.core.outcomes import Outcome, ReasonCode
from rsu_sim.plaza.summary import PlazaSummary
from rsu_sim.results.figures import outcome_figures, outcome_rows, percentiles_ms, render_table
from tests.lane_engine.journal.journal_records import debited, intent


def test_figures_count_outcomes_reasons_recoveries_and_money() -> None:
    records = [
        debited(1), debited(2, recovered=True),
        intent(3, outcome=Outcome.REFUSED, reason=ReasonCode.BLACKLISTED),
        intent(4, outcome=Outcome.REFUSED, reason=ReasonCode.BLACKLISTED),
        intent(5, outcome=Outcome.NOT_DEBITED, reason=ReasonCode.CARD_LOCKED),
        intent(6, outcome=Outcome.CASH_REQUIRED, cash_fee=4300),
        intent(7, recovered=True),  # still unresolved: not counted as recovered
    ]
    figures = outcome_figures(iter(records))
    assert figures.transactions == len(records)
    assert figures.outcomes[Outcome.DEBITED] == 2 and figures.outcomes[Outcome.UNRESOLVED] == 1
    assert figures.refused == {"BLACKLISTED": 2}
    assert figures.not_debited == {"CARD_LOCKED": 1}
    assert figures.recovered == 1
    assert figures.revenue_fen == debited(1).amount_debited + debited(2).amount_debited
    assert figures.cash_due_fen == 4300


@settings(max_examples=40)
@given(st.lists(st.floats(min_value=0.0, max_value=10.0), min_size=1, max_size=50))
def test_percentiles_are_ordered_and_end_at_the_longest(durations: list[float]) -> None:
    ms = percentiles_ms(durations)
    assert list(ms) == ["p50", "p90", "p99", "max"]
    assert ms["p50"] <= ms["p90"] <= ms["p99"] <= ms["max"]
    assert abs(ms["max"] - max(durations) * 1000.0) <= 0.05


def test_no_durations_give_no_percentiles() -> None:
    assert percentiles_ms([]) == {}


def test_rows_render_as_one_aligned_table_with_the_footnote_last() -> None:
    summary = PlazaSummary(
        scenario="s", seed=1, lanes=1, speed=1.0, vehicles=1, arrivals=1, pass_ends={},
        transactions=3, completed={"debited": 2}, refused={"BLACKLISTED": 1}, not_debited={},
        unresolved=0, recoveries_started=1, recovered=1, settled_on_later_pass=0,
        revenue_fen=123_456, cash_due_fen=5, decision_ms={}, link={}, outbox_backlog=0,
        wall_s=1.0, audit_clean=True)
    rows = outcome_rows(summary, recovered=("completed by recovery", summary.recovered))
    text = render_table(rows, footnote="why").splitlines()
    assert ("  blacklisted", "1") in rows and ("  completed by recovery", "1") in rows
    assert ("revenue", "123,456 fen = 1,234.56 yuan") in rows
    assert ("cash due", "5 fen = 0.05 yuan") in rows
    value_column = {line.index(value) for line, (_, value) in zip(text, rows, strict=False)}
    assert len(value_column) == 1
    assert text[-1].strip() == "(why)"
