"""Service time limits (seed art. 22) on a working-day calendar.

A card application 7 working days, B card 1, OBU 2, loss report, unlock and cancel 1, top-up at
once. Our decision on counting: the deadline is the same clock time N working days after the
application (an application on a non-working day counts from the start of the next working
day); "at once" means within the same visit, so the deadline is the application time itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from centre.values import CENTRE_ZONE


class Service(Enum):
    """The services with a time limit; the value is the operation's name."""

    A_CARD = "issue_a_card"
    B_CARD = "issue_b_card"
    OBU = "issue_obu"
    TOP_UP = "top_up"
    LOSS = "report_loss"
    UNLOCK = "unlock"
    CANCEL = "cancel"

    @property
    def working_days(self) -> int:
        """The limit in working days (0: at once)."""
        return _LIMITS[self]


_LIMITS = {
    Service.A_CARD: 7, Service.B_CARD: 1, Service.OBU: 2, Service.TOP_UP: 0,
    Service.LOSS: 1, Service.UNLOCK: 1, Service.CANCEL: 1,
}


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Monday to Friday, less public holidays, plus the weekend days worked in their place."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    working_weekends: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, holidays: Iterable[dt.date] = (), working_weekends: Iterable[dt.date] = ()
           ) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(working_weekends))

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working_weekends:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """`start` moved on by `days` working days, in the centre's zone (see the module)."""
        local = start.astimezone(CENTRE_ZONE)
        if days == 0:
            return local
        day = local.date()
        clock = local.timetz()
        if not self.is_working_day(day):
            clock = dt.time(0, 0, tzinfo=CENTRE_ZONE)
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
        for _ in range(days):
            day += dt.timedelta(days=1)
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
        return dt.datetime.combine(day, clock)


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """How one operation stands against its limit."""

    service: Service
    applied_at: dt.datetime
    deadline: dt.datetime
    completed_at: dt.datetime

    @property
    def breached(self) -> bool:
        return self.completed_at > self.deadline

    @property
    def late_by(self) -> dt.timedelta:
        """How far past the deadline it was completed (zero when on time)."""
        return max(self.completed_at - self.deadline, dt.timedelta(0))


def time_limit(service: Service, applied_at: dt.datetime, completed_at: dt.datetime,
               calendar: WorkingCalendar) -> TimeLimit:
    """The limit of `service` applied for at `applied_at` and completed at `completed_at`."""
    deadline = calendar.add_working_days(applied_at, service.working_days)
    return TimeLimit(service, applied_at, deadline, completed_at)
