"""EventBridge schedule expressions: ``rate(...)``, 6-field ``cron(...)`` and ``at(...)``.

:func:`parse_schedule` validates an expression the way EventBridge does and returns a
:class:`Schedule` whose :meth:`~Schedule.next_after` gives the next firing time (aware
datetimes, returned in UTC). Pure code; the local stack's ticker drives it.

AWS cron differs from Unix cron: six fields
``cron(Minutes Hours Day-of-month Month Day-of-week Year)``, day-of-week 1-7 with
1 = SUNDAY, exactly one of day-of-month / day-of-week is ``?``, and the Quartz-style
``L``, ``W`` and ``#`` wildcards.
"""

from __future__ import annotations

import calendar
import re
from abc import ABC, abstractmethod
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "AtSchedule",
    "CronSchedule",
    "RateSchedule",
    "Schedule",
    "ScheduleError",
    "parse_schedule",
]

MIN_YEAR: Final = 1970
MAX_YEAR: Final = 2199

RATE_EXAMPLE: Final = "rate(5 minutes)"
CRON_EXAMPLE: Final = "cron(0 3 * * ? *)"
AT_EXAMPLE: Final = "at(2026-11-21T10:00:00)"
EXAMPLES: Final = f"{RATE_EXAMPLE}, {CRON_EXAMPLE} or {AT_EXAMPLE}"

CRON_FIELDS: Final = ("Minutes", "Hours", "Day-of-month", "Month", "Day-of-week", "Year")

_MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTH_NAMES: Final = {name: i for i, name in enumerate(_MONTHS, start=1)}
# AWS numbering: 1 = SUN ... 7 = SAT.
DAY_NAMES: Final = {
    name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)
}


class ScheduleError(ValueError):
    """An invalid schedule expression; the message says what is wrong and shows a valid example."""


def _check_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"next_after needs a timezone-aware datetime (e.g. datetime.now(UTC)), got {dt!r}")


class Schedule(ABC):
    """A parsed schedule expression."""

    expression: str

    @abstractmethod
    def next_after(self, dt: datetime) -> datetime | None:
        """The first firing time strictly after ``dt`` (aware, in UTC), or None if there is none."""

    def upcoming(self, after: datetime, count: int) -> list[datetime]:
        """The next ``count`` firing times after ``after`` (fewer if the schedule ends)."""
        times: list[datetime] = []
        current: datetime | None = after
        while current is not None and len(times) < count:
            current = self.next_after(current)
            if current is not None:
                times.append(current)
        return times


# --------------------------------------------------------------------------------------
# rate()
# --------------------------------------------------------------------------------------

_RATE_UNITS: Final = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class RateSchedule(Schedule):
    """``rate(N unit)``. Without an anchor ``next_after(dt)`` is ``dt + period``; with one,
    firings are ``anchor + k * period`` (k >= 1), the first of them after ``dt``."""

    expression: str
    period: timedelta
    anchor: datetime | None = None

    def anchored(self, anchor: datetime) -> RateSchedule:
        """The same rate, firing at ``anchor + k * period`` (e.g. anchor = when the stack started)."""
        _check_aware(anchor)
        return RateSchedule(self.expression, self.period, anchor.astimezone(UTC))

    def next_after(self, dt: datetime) -> datetime | None:
        _check_aware(dt)
        dt = dt.astimezone(UTC)
        if self.anchor is None:
            return dt + self.period
        if dt < self.anchor:
            return self.anchor + self.period
        periods = (dt - self.anchor) // self.period + 1
        return self.anchor + periods * self.period


def _parse_rate(expression: str, body: str) -> RateSchedule:
    parts = body.split()
    if len(parts) != 2:
        raise ScheduleError(
            f"{expression}: a rate is 'rate(value unit)' with unit minute(s), hour(s) or day(s), "
            f"e.g. {RATE_EXAMPLE} or rate(1 hour)"
        )
    value_text, unit = parts
    if not value_text.isdigit() or int(value_text) < 1:
        raise ScheduleError(
            f"{expression}: the rate value must be a positive whole number, e.g. {RATE_EXAMPLE}"
        )
    value = int(value_text)
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _RATE_UNITS:
        raise ScheduleError(
            f"{expression}: unknown rate unit {unit!r}; use minute(s), hour(s) or day(s), e.g. {RATE_EXAMPLE}"
        )
    expected = singular if value == 1 else f"{singular}s"
    if unit != expected:
        raise ScheduleError(
            f"{expression}: AWS wants the singular unit for 1 and the plural otherwise: "
            f"write rate({value} {expected})"
        )
    return RateSchedule(expression, value * _RATE_UNITS[singular])


# --------------------------------------------------------------------------------------
# at()
# --------------------------------------------------------------------------------------

_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


@dataclass(frozen=True)
class AtSchedule(Schedule):
    """``at(yyyy-mm-ddThh:mm:ss)``: a one-time EventBridge Scheduler schedule."""

    expression: str
    when: datetime

    def next_after(self, dt: datetime) -> datetime | None:
        _check_aware(dt)
        return self.when if self.when > dt else None


def _parse_at(expression: str, body: str, zone: tzinfo) -> AtSchedule:
    if not _AT.fullmatch(body):
        raise ScheduleError(
            f"{expression}: a one-time schedule is at(yyyy-mm-ddThh:mm:ss), e.g. {AT_EXAMPLE}"
        )
    try:
        local = datetime.fromisoformat(body)
    except ValueError as exc:
        raise ScheduleError(f"{expression}: {exc}; a valid one is {AT_EXAMPLE}") from exc
    return AtSchedule(expression, local.replace(tzinfo=zone).astimezone(UTC))


# --------------------------------------------------------------------------------------
# cron()
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DaysOfMonth:
    kind: str  # "any" (?), "values", "last" (L), "weekday" (nW)
    values: frozenset[int] = frozenset()
    day: int = 0


@dataclass(frozen=True)
class _DaysOfWeek:
    kind: str  # "any" (?), "values", "last" (nL), "nth" (n#k)
    values: frozenset[int] = frozenset()
    weekday: int = 0
    nth: int = 0


@lru_cache(maxsize=8192)
def _matching_days(dom: _DaysOfMonth, dow: _DaysOfWeek, year: int, month: int) -> tuple[int, ...]:
    """Days of ``month`` that match the day-of-month or (when that is ?) the day-of-week field."""
    first_weekday, length = calendar.monthrange(year, month)
    aws_first = (first_weekday + 1) % 7 + 1  # AWS weekday of the 1st

    def weekday_of(day: int) -> int:
        return (aws_first - 1 + day - 1) % 7 + 1

    if dom.kind == "values":
        return tuple(d for d in sorted(dom.values) if d <= length)
    if dom.kind == "last":
        return (length,)
    if dom.kind == "weekday":
        day = dom.day
        if day > length:
            return ()
        weekday = weekday_of(day)
        if weekday == 7:  # Saturday: the Friday before, or Monday the 3rd when the 1st is a Saturday
            day = day - 1 if day > 1 else day + 2
        elif weekday == 1:  # Sunday: the Monday after, or the Friday before at the end of the month
            day = day + 1 if day < length else day - 2
        return (day,)
    if dow.kind == "values":
        return tuple(d for d in range(1, length + 1) if weekday_of(d) in dow.values)
    if dow.kind == "last":
        last = length
        while weekday_of(last) != dow.weekday:
            last -= 1
        return (last,)
    if dow.kind == "nth":
        first = 1 + (dow.weekday - aws_first) % 7
        day = first + 7 * (dow.nth - 1)
        return (day,) if day <= length else ()
    raise AssertionError(f"unreachable day spec {dom!r} {dow!r}")  # pragma: no cover


def _next_in(values: tuple[int, ...], at_least: int) -> int | None:
    index = bisect_left(values, at_least)
    return values[index] if index < len(values) else None


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """``cron(Minutes Hours Day-of-month Month Day-of-week Year)``, evaluated in ``timezone``."""

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: _DaysOfMonth
    months: tuple[int, ...]
    days_of_week: _DaysOfWeek
    years: tuple[int, ...]
    timezone: tzinfo = field(default=UTC)

    def matches(self, dt: datetime) -> bool:
        """Whether the schedule fires at ``dt`` (to the minute; naive = wall time in ``timezone``)."""
        if dt.tzinfo is not None:
            dt = dt.astimezone(self.timezone)
        return (
            dt.second == 0
            and dt.microsecond == 0
            and dt.minute in self.minutes
            and dt.hour in self.hours
            and dt.year in self.years
            and dt.month in self.months
            and dt.day in _matching_days(self.days_of_month, self.days_of_week, dt.year, dt.month)
        )

    def next_after(self, dt: datetime) -> datetime | None:
        _check_aware(dt)
        wall = dt.astimezone(self.timezone).replace(tzinfo=None, second=0, microsecond=0)
        start = wall + timedelta(minutes=1)
        # Usually one pass; a few more only around daylight-saving changes in non-UTC zones.
        for _ in range(1000):
            candidate = self._next_wall_time(start)
            if candidate is None:
                return None
            fired = candidate.replace(tzinfo=self.timezone).astimezone(UTC)
            if fired > dt:
                return fired
            start = candidate + timedelta(minutes=1)
        return None  # pragma: no cover - needs a thousand consecutive DST-shadowed matches

    def _next_wall_time(self, start: datetime) -> datetime | None:
        """The first matching wall-clock minute at or after ``start`` (naive), stepping field by field."""
        year, month, day, hour, minute = start.year, start.month, start.day, start.hour, start.minute
        while True:
            next_year = _next_in(self.years, year)
            if next_year is None:
                return None
            if next_year != year:
                year, month, day, hour, minute = next_year, 1, 1, 0, 0

            next_month = _next_in(self.months, month)
            if next_month is None:
                year, month, day, hour, minute = year + 1, 1, 1, 0, 0
                continue
            if next_month != month:
                month, day, hour, minute = next_month, 1, 0, 0

            next_day = _next_in(_matching_days(self.days_of_month, self.days_of_week, year, month), day)
            if next_day is None:
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
                day, hour, minute = 1, 0, 0
                continue
            if next_day != day:
                day, hour, minute = next_day, 0, 0

            next_hour = _next_in(self.hours, hour)
            if next_hour is None:
                day, hour, minute = day + 1, 0, 0  # a day past the month's end fails the day step
                continue
            if next_hour != hour:
                hour, minute = next_hour, 0

            next_minute = _next_in(self.minutes, minute)
            if next_minute is None:
                hour, minute = hour + 1, 0
                if hour == 24:
                    day, hour = day + 1, 0
                continue
            return datetime(year, month, day, hour, next_minute)  # naive: wall-clock time in self.timezone


class _CronField:
    """Parses one numeric cron field (lists, ranges, steps, names) into the values it allows."""

    def __init__(
        self, expression: str, name: str, low: int, high: int, names: dict[str, int] | None = None
    ) -> None:
        self.expression = expression
        self.name = name
        self.low = low
        self.high = high
        self.names = names or {}

    def error(self, problem: str, example: str) -> ScheduleError:
        return ScheduleError(f"{self.expression}: {self.name} field: {problem}. Example: {example}")

    def number(self, token: str, example: str) -> int:
        if token in self.names:
            return self.names[token]
        if not token.isdigit():
            allowed = f"{self.low}-{self.high}"
            if self.names:
                allowed += f" or {next(iter(self.names))}-{list(self.names)[-1]}"
            raise self.error(f"{token!r} is not a value ({allowed})", example)
        value = int(token)
        if not self.low <= value <= self.high:
            hint = ""
            if self.name == "Day-of-week" and value == 0:
                hint = " (AWS counts 1 = SUN to 7 = SAT, not Unix's 0-6)"
            raise self.error(f"{value} is out of range {self.low}-{self.high}{hint}", example)
        return value

    def cycle(self, start: int, end: int, step: int) -> list[int]:
        span = self.high - self.low + 1
        if end < start:
            if self.name == "Year":
                raise self.error(f"the range {start}-{end} runs backwards", "cron(0 12 * * ? 2026-2030)")
            end += span  # a wrapping range such as FRI-MON or 22-2
        return [self.low + (v - self.low) % span for v in range(start, end + 1, step)]

    def parse(self, text: str, example: str) -> tuple[int, ...]:
        values: set[int] = set()
        for item in text.split(","):
            base, slash, step_text = item.partition("/")
            step = 1
            if slash:
                if not step_text.isdigit() or int(step_text) < 1:
                    raise self.error(f"the step in {item!r} must be a positive number", example)
                step = int(step_text)
            if base == "*":
                start, end = self.low, self.high
            elif "-" in base:
                first, _, last = base.partition("-")
                start, end = self.number(first, example), self.number(last, example)
            else:
                start = self.number(base, example)
                end = self.high if slash else start
            values.update(self.cycle(start, end, step))
        return tuple(sorted(values))


def _parse_days_of_month(expression: str, text: str) -> _DaysOfMonth:
    if text == "?":
        return _DaysOfMonth("any")
    if text == "L":
        return _DaysOfMonth("last")
    example = "cron(0 12 15W * ? *) or cron(0 12 L * ? *)"
    parser = _CronField(expression, "Day-of-month", 1, 31)
    if text.endswith("W"):
        day = parser.number(text[:-1], example)
        return _DaysOfMonth("weekday", day=day)
    if "L" in text or "W" in text:
        raise parser.error(f"{text!r}: L and nW stand alone (L, 15W), not in lists or ranges", example)
    return _DaysOfMonth("values", values=frozenset(parser.parse(text, "cron(0 12 1,15 * ? *)")))


def _parse_days_of_week(expression: str, text: str) -> _DaysOfWeek:
    if text == "?":
        return _DaysOfWeek("any")
    if text == "L":
        return _DaysOfWeek("values", values=frozenset({7}))  # the last day of the week: Saturday
    parser = _CronField(expression, "Day-of-week", 1, 7, DAY_NAMES)
    if text.endswith("L"):
        return _DaysOfWeek("last", weekday=parser.number(text[:-1], "cron(0 12 ? * 6L *) (last Friday)"))
    if "#" in text:
        weekday_text, _, nth_text = text.partition("#")
        example = "cron(0 12 ? * 3#2 *) (second Tuesday)"
        weekday = parser.number(weekday_text, example)
        if not nth_text.isdigit() or not 1 <= int(nth_text) <= 5:
            raise parser.error(f"{text!r}: the n in day#n must be 1-5", example)
        return _DaysOfWeek("nth", weekday=weekday, nth=int(nth_text))
    if "L" in text:  # no day name contains an L: this one is misplaced
        raise parser.error(f"{text!r}: L stands alone (L, 6L), not in lists or ranges", "cron(0 12 ? * 6L *)")
    return _DaysOfWeek("values", values=frozenset(parser.parse(text, "cron(0 12 ? * MON-FRI *)")))


def _parse_cron(expression: str, body: str, zone: tzinfo) -> CronSchedule:
    fields = body.upper().split()
    if len(fields) != 6:
        hint = ""
        if len(fields) == 5:
            hint = " Unix cron has 5 fields; AWS adds a Year field at the end (use * for every year)."
        raise ScheduleError(
            f"{expression}: AWS cron expressions have 6 fields "
            f"(Minutes Hours Day-of-month Month Day-of-week Year), got {len(fields)}.{hint} "
            f"Example: {CRON_EXAMPLE}"
        )
    minutes_text, hours_text, dom_text, month_text, dow_text, year_text = fields
    if (dom_text == "?") == (dow_text == "?"):
        problem = "both are ?" if dom_text == "?" else "neither is ?"
        raise ScheduleError(
            f"{expression}: exactly one of Day-of-month and Day-of-week must be ? ({problem}). "
            f"Examples: cron(0 12 * * ? *) every day, cron(0 12 ? * MON-FRI *) on weekdays"
        )
    return CronSchedule(
        expression=expression,
        minutes=_CronField(expression, "Minutes", 0, 59).parse(minutes_text, "cron(0/15 * * * ? *)"),
        hours=_CronField(expression, "Hours", 0, 23).parse(hours_text, "cron(0 8-17 * * ? *)"),
        days_of_month=_parse_days_of_month(expression, dom_text),
        months=_CronField(expression, "Month", 1, 12, MONTH_NAMES).parse(
            month_text, "cron(0 12 1 JAN,JUL ? *)"
        ),
        days_of_week=_parse_days_of_week(expression, dow_text),
        years=_CronField(expression, "Year", MIN_YEAR, MAX_YEAR).parse(
            year_text, "cron(0 12 * * ? 2026-2030)"
        ),
        timezone=zone,
    )


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def _zone(timezone: str | tzinfo | None) -> tzinfo:
    if timezone is None or timezone in ("UTC", "Etc/UTC"):
        return UTC
    if isinstance(timezone, tzinfo):
        return timezone
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown timezone {timezone!r}; use an IANA name such as Europe/Paris") from exc


def parse_schedule(
    expression: str, timezone: str | tzinfo | None = None, *, allow_at: bool = True
) -> Schedule:
    """Parse an EventBridge schedule expression.

    ``timezone`` (EventBridge Scheduler's ScheduleExpressionTimezone, default UTC) applies
    to cron() and at(). ``allow_at=False`` rejects at(), which only EventBridge Scheduler
    (ScheduleV2) accepts, not EventBridge rules (Schedule events).
    Raises :class:`ScheduleError` with what is wrong and a valid example.
    """
    if not isinstance(expression, str):
        raise ScheduleError(f"a schedule expression is a string such as {EXAMPLES}, got {expression!r}")
    text = expression.strip()
    kind, paren, rest = text.partition("(")
    if not paren or not rest.endswith(")") or kind not in ("rate", "cron", "at"):
        hint = ""
        if not paren and len(text.split()) in (5, 6):
            hint = f" AWS wants the fields inside cron, with a 6th Year field: {CRON_EXAMPLE}."
        raise ScheduleError(f"{expression!r} is not a schedule expression: use {EXAMPLES}.{hint}")
    body = rest[:-1].strip()
    if kind == "rate":
        return _parse_rate(expression, body)
    zone = _zone(timezone)
    if kind == "at":
        if not allow_at:
            raise ScheduleError(
                f"{expression}: at() one-time schedules need EventBridge Scheduler (ScheduleV2); "
                f"EventBridge rules take {RATE_EXAMPLE} or {CRON_EXAMPLE}"
            )
        return _parse_at(expression, body, zone)
    return _parse_cron(expression, body, zone)
