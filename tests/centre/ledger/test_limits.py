"""Service time limits on the working-day calendar (seed art. 22)."""

from __future__ import annotations

import datetime as dt

import pytest

from centre.ledger.limits import Service, WorkingCalendar, time_limit
from centre.values import CENTRE_ZONE


def at(day: int, hour: int = 10, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=CENTRE_ZONE)


def test_the_limits_are_the_seeds() -> None:
    assert {s: s.working_days for s in Service} == {
        Service.A_CARD: 7, Service.B_CARD: 1, Service.OBU: 2, Service.TOP_UP: 0,
        Service.LOSS: 1, Service.UNLOCK: 1, Service.CANCEL: 1}


def test_a_b_card_applied_for_on_friday_is_due_on_monday() -> None:
    calendar = WorkingCalendar()
    friday = at(27)
    assert friday.weekday() == 4
    limit = time_limit(Service.B_CARD, friday, at(30, 9), calendar)
    assert limit.deadline == at(30) and not limit.breached
    late = time_limit(Service.B_CARD, friday, at(30, 11), calendar)
    assert late.breached and late.late_by == dt.timedelta(hours=1)


def test_holidays_are_skipped_and_working_weekends_count() -> None:
    calendar = WorkingCalendar.of(holidays=[dt.date(2026, 11, 30)],
                                  working_weekends=[dt.date(2026, 11, 28)])
    assert calendar.add_working_days(at(27), 1) == at(28)
    assert calendar.add_working_days(at(27), 2) == at(1, month=12)


def test_an_application_on_a_weekend_counts_from_monday_morning() -> None:
    saturday = at(28, 15)
    assert WorkingCalendar().add_working_days(saturday, 2) == at(2, 0, month=12)


def test_an_a_card_has_seven_working_days_and_a_top_up_none() -> None:
    calendar = WorkingCalendar()
    assert time_limit(Service.A_CARD, at(23), at(2, month=12), calendar).deadline == at(
        2, month=12)
    assert time_limit(Service.TOP_UP, at(23), at(23), calendar).breached is False
    assert time_limit(Service.TOP_UP, at(23), at(23, 11), calendar).breached is True


@pytest.mark.parametrize("zone_hours", [0, 8, -5])
def test_deadlines_are_counted_in_the_centres_zone(zone_hours: int) -> None:
    zone = dt.timezone(dt.timedelta(hours=zone_hours))
    start = at(27).astimezone(zone)
    assert WorkingCalendar().add_working_days(start, 1) == at(30)
