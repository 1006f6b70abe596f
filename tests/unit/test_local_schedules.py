"""local/schedules.py: EventBridge rate(), cron() and at() expressions.

Expected dates are computed by hand from the calendar (2026-11-21 is a Saturday,
2026-08-01 a Saturday, 2026-11-01 a Sunday, 2028-02-29 a Tuesday).
"""

from __future__ import annotations

import calendar
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagestudio.schedules import (
    AtSchedule,
    CronSchedule,
    RateSchedule,
    ScheduleError,
    parse_schedule,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def upcoming(expression: str, after: datetime, count: int = 3, tz: str | None = None) -> list[datetime]:
    return parse_schedule(expression, tz).upcoming(after, count)


def first(expression: str, after: datetime, tz: str | None = None) -> datetime | None:
    return parse_schedule(expression, tz).next_after(after)


SATURDAY = utc(2026, 11, 21, 13, 0)  # Saturday 21 November 2026, 13:00 UTC

# --------------------------------------------------------------------------------------
# rate()
# --------------------------------------------------------------------------------------


class TestRate:
    @pytest.mark.parametrize(
        ("expression", "period"),
        [
            ("rate(1 minute)", timedelta(minutes=1)),
            ("rate(5 minutes)", timedelta(minutes=5)),
            ("rate(1 hour)", timedelta(hours=1)),
            ("rate(2 hours)", timedelta(hours=2)),
            ("rate(1 day)", timedelta(days=1)),
            ("rate(3 days)", timedelta(days=3)),
            ("rate(90 minutes)", timedelta(minutes=90)),
            (" rate(10 minutes) ", timedelta(minutes=10)),
        ],
    )
    def test_period(self, expression: str, period: timedelta) -> None:
        schedule = parse_schedule(expression)
        assert isinstance(schedule, RateSchedule)
        assert schedule.period == period
        assert schedule.next_after(SATURDAY) == SATURDAY + period
        assert schedule.upcoming(SATURDAY, 3) == [SATURDAY + period * k for k in (1, 2, 3)]

    def test_keeps_seconds_and_returns_utc(self) -> None:
        paris = datetime(2026, 11, 21, 14, 0, 30, tzinfo=ZoneInfo("Europe/Paris"))
        assert parse_schedule("rate(5 minutes)").next_after(paris) == utc(2026, 11, 21, 13, 5, 30)

    def test_anchor(self) -> None:
        schedule = parse_schedule("rate(5 minutes)")
        assert isinstance(schedule, RateSchedule)
        anchored = schedule.anchored(utc(2026, 11, 21, 10, 0))
        assert anchored.next_after(utc(2026, 11, 21, 10, 7, 12)) == utc(2026, 11, 21, 10, 10)
        assert anchored.next_after(utc(2026, 11, 21, 10, 10)) == utc(2026, 11, 21, 10, 15)
        assert anchored.next_after(utc(2026, 11, 21, 10, 0)) == utc(2026, 11, 21, 10, 5)
        assert anchored.next_after(utc(2026, 11, 21, 9, 0)) == utc(2026, 11, 21, 10, 5)
        daily = parse_schedule("rate(1 day)")
        assert isinstance(daily, RateSchedule)
        assert daily.anchored(utc(2026, 1, 1, 6, 30)).next_after(SATURDAY) == utc(2026, 11, 22, 6, 30)

    @pytest.mark.parametrize(
        ("expression", "message"),
        [
            ("rate(1 minutes)", r"write rate\(1 minute\)"),
            ("rate(5 minute)", r"write rate\(5 minutes\)"),
            ("rate(1 hours)", r"write rate\(1 hour\)"),
            ("rate(2 day)", r"write rate\(2 days\)"),
            ("rate(0 minutes)", "positive whole number"),
            ("rate(-1 minutes)", "positive whole number"),
            ("rate(1.5 hours)", "positive whole number"),
            ("rate(five minutes)", "positive whole number"),
            ("rate(5 seconds)", "unknown rate unit 'seconds'"),
            ("rate(2 weeks)", "unknown rate unit 'weeks'"),
            ("rate(5)", "rate is 'rate"),
            ("rate()", "rate is 'rate"),
            ("rate(5 minutes please)", "rate is 'rate"),
        ],
    )
    def test_errors(self, expression: str, message: str) -> None:
        with pytest.raises(ScheduleError, match=message):
            parse_schedule(expression)


# --------------------------------------------------------------------------------------
# cron(): hand-computed cases
# --------------------------------------------------------------------------------------


class TestCron:
    def test_first_of_month_with_year_rollover(self) -> None:
        assert upcoming("cron(0 3 1 * ? *)", SATURDAY) == [
            utc(2026, 12, 1, 3, 0),
            utc(2027, 1, 1, 3, 0),
            utc(2027, 2, 1, 3, 0),
        ]

    def test_strictly_after(self) -> None:
        assert first("cron(15 10 * * ? *)", utc(2026, 11, 21, 10, 15)) == utc(2026, 11, 22, 10, 15)
        assert first("cron(15 10 * * ? *)", utc(2026, 11, 21, 10, 14, 59, 999999)) == utc(
            2026, 11, 21, 10, 15
        )
        assert first("cron(15 10 * * ? *)", utc(2026, 11, 21, 10, 15, 0, 1)) == utc(2026, 11, 22, 10, 15)

    def test_every_minute(self) -> None:
        assert upcoming("cron(* * * * ? *)", utc(2026, 11, 21, 13, 0, 30)) == [
            utc(2026, 11, 21, 13, 1),
            utc(2026, 11, 21, 13, 2),
            utc(2026, 11, 21, 13, 3),
        ]

    def test_day_month_year_rollovers(self) -> None:
        assert first("cron(0 0 * * ? *)", utc(2026, 12, 31, 23, 59, 30)) == utc(2027, 1, 1, 0, 0)
        assert first("cron(59 23 * * ? *)", utc(2026, 12, 31, 23, 59)) == utc(2027, 1, 1, 23, 59)
        assert first("cron(30 * * * ? *)", utc(2026, 2, 28, 23, 45)) == utc(2026, 3, 1, 0, 30)
        assert first("cron(0 0 1 1 ? *)", utc(2026, 1, 1, 0, 0)) == utc(2027, 1, 1, 0, 0)

    def test_day_31_skips_short_months(self) -> None:
        assert upcoming("cron(0 0 31 * ? *)", SATURDAY, 4) == [
            utc(2026, 12, 31),
            utc(2027, 1, 31),
            utc(2027, 3, 31),
            utc(2027, 5, 31),
        ]

    def test_february_29_is_fast(self) -> None:
        schedule = parse_schedule("cron(0 0 29 2 ? *)")
        started = time.perf_counter()
        result = schedule.upcoming(SATURDAY, 3)
        elapsed = time.perf_counter() - started
        assert result == [utc(2028, 2, 29), utc(2032, 2, 29), utc(2036, 2, 29)]
        assert elapsed < 0.05
        # 2100 is not a leap year
        assert first("cron(0 0 29 2 ? *)", utc(2096, 3, 1)) == utc(2104, 2, 29)

    def test_never_matching_returns_none_quickly(self) -> None:
        started = time.perf_counter()
        assert first("cron(0 0 30 2 ? *)", SATURDAY) is None
        assert time.perf_counter() - started < 0.5

    def test_last_day_of_month(self) -> None:
        assert upcoming("cron(0 0 L * ? *)", utc(2026, 1, 15), 4) == [
            utc(2026, 1, 31),
            utc(2026, 2, 28),
            utc(2026, 3, 31),
            utc(2026, 4, 30),
        ]
        assert first("cron(0 0 L 2 ? *)", utc(2027, 3, 1)) == utc(2028, 2, 29)

    @pytest.mark.parametrize(
        ("expression", "after", "expected"),
        [
            # 15W: Thursday 15 Jan 2026 itself
            ("cron(0 12 15W * ? *)", utc(2026, 1, 1), utc(2026, 1, 15, 12)),
            # 15W: 15 Aug 2026 is a Saturday -> Friday 14th
            ("cron(0 12 15W * ? *)", utc(2026, 8, 1), utc(2026, 8, 14, 12)),
            # 15W: 15 Nov 2026 is a Sunday -> Monday 16th
            ("cron(0 12 15W * ? *)", utc(2026, 11, 1), utc(2026, 11, 16, 12)),
            # 1W: 1 Aug 2026 is a Saturday -> Monday 3rd (never the previous month)
            ("cron(0 12 1W * ? *)", utc(2026, 7, 31), utc(2026, 8, 3, 12)),
            # 1W: 1 Nov 2026 is a Sunday -> Monday 2nd
            ("cron(0 12 1W * ? *)", utc(2026, 10, 31), utc(2026, 11, 2, 12)),
            # 31W: Saturday 31 Oct 2026 -> Friday 30th
            ("cron(0 12 31W * ? *)", utc(2026, 10, 1), utc(2026, 10, 30, 12)),
            # 31W: Sunday 31 May 2026 is the last day -> Friday 29th (never the next month)
            ("cron(0 12 31W * ? *)", utc(2026, 5, 1), utc(2026, 5, 29, 12)),
            # 31W: November has 30 days -> no firing; Thursday 31 Dec 2026
            ("cron(0 12 31W * ? *)", utc(2026, 11, 1), utc(2026, 12, 31, 12)),
        ],
    )
    def test_nearest_weekday(self, expression: str, after: datetime, expected: datetime) -> None:
        assert first(expression, after) == expected

    def test_nearest_weekday_moved_to_already_passed_day(self) -> None:
        # 15W in Aug 2026 fires on the 14th: after that, the next is 15 Sep 2026 (a Tuesday)
        assert first("cron(0 12 15W * ? *)", utc(2026, 8, 14, 12)) == utc(2026, 9, 15, 12)

    @pytest.mark.parametrize(
        ("expression", "after", "expected"),
        [
            ("cron(0 12 ? * 3#2 *)", utc(2026, 1, 1), utc(2026, 1, 13, 12)),  # 2nd Tuesday
            ("cron(0 12 ? * TUE#2 *)", utc(2026, 11, 1), utc(2026, 11, 10, 12)),
            ("cron(0 12 ? * 2#1 *)", utc(2026, 11, 1), utc(2026, 11, 2, 12)),  # 1st Monday
            ("cron(0 12 ? * 1#1 *)", utc(2026, 11, 1), utc(2026, 11, 1, 12)),  # 1st Sunday = the 1st
            ("cron(0 12 ? * 6#5 *)", utc(2026, 1, 1), utc(2026, 1, 30, 12)),  # 5th Friday
            # no 5th Friday in Feb, Mar or Apr 2026
            ("cron(0 12 ? * 6#5 *)", utc(2026, 1, 31), utc(2026, 5, 29, 12)),
        ],
    )
    def test_nth_weekday(self, expression: str, after: datetime, expected: datetime) -> None:
        assert first(expression, after) == expected

    def test_last_weekday_of_month(self) -> None:
        # AWS numbering: 6 = FRI, 5 = THU
        assert upcoming("cron(0 12 ? * 6L *)", utc(2026, 1, 1), 3) == [
            utc(2026, 1, 30, 12),
            utc(2026, 2, 27, 12),
            utc(2026, 3, 27, 12),
        ]
        assert first("cron(0 12 ? * 5L *)", utc(2026, 1, 1)) == utc(2026, 1, 29, 12)
        assert first("cron(0 12 ? * 7L *)", utc(2026, 1, 1)) == utc(2026, 1, 31, 12)
        assert first("cron(0 12 ? * 1L *)", utc(2026, 5, 1)) == utc(2026, 5, 31, 12)

    def test_l_alone_in_day_of_week_is_saturday(self) -> None:
        assert first("cron(0 12 ? * L *)", SATURDAY) == utc(2026, 11, 28, 12)

    @pytest.mark.parametrize(
        ("day_of_week", "expected"),
        [
            ("1", utc(2026, 11, 22, 9)),  # 1 = SUNDAY (AWS), not Monday
            ("SUN", utc(2026, 11, 22, 9)),
            ("2", utc(2026, 11, 23, 9)),
            ("MON", utc(2026, 11, 23, 9)),
            ("4", utc(2026, 11, 25, 9)),  # Wednesday
            ("6", utc(2026, 11, 27, 9)),  # Friday
            ("7", utc(2026, 11, 28, 9)),  # Saturday (the 21st's 09:00 has passed)
            ("SAT", utc(2026, 11, 28, 9)),
        ],
    )
    def test_aws_day_of_week_numbering(self, day_of_week: str, expected: datetime) -> None:
        assert first(f"cron(0 9 ? * {day_of_week} *)", SATURDAY) == expected

    def test_day_name_ranges_and_lists(self) -> None:
        friday_evening = utc(2026, 11, 20, 18, 0)
        assert upcoming("cron(0 9 ? * MON-FRI *)", friday_evening, 2) == [
            utc(2026, 11, 23, 9),
            utc(2026, 11, 24, 9),
        ]
        assert upcoming("cron(0 9 ? * 2-6 *)", friday_evening, 1) == [utc(2026, 11, 23, 9)]
        assert upcoming("cron(0 9 ? * mon,wed,fri *)", friday_evening, 3) == [
            utc(2026, 11, 23, 9),
            utc(2026, 11, 25, 9),
            utc(2026, 11, 27, 9),
        ]
        # a wrapping range: FRI-MON = Fri, Sat, Sun, Mon
        tuesday = utc(2026, 11, 24, 0, 0)
        assert upcoming("cron(0 9 ? * FRI-MON *)", tuesday, 5) == [
            utc(2026, 11, 27, 9),
            utc(2026, 11, 28, 9),
            utc(2026, 11, 29, 9),
            utc(2026, 11, 30, 9),
            utc(2026, 12, 4, 9),
        ]

    def test_month_names(self) -> None:
        assert upcoming("cron(0 0 1 JAN,JUL ? *)", SATURDAY, 3) == [
            utc(2027, 1, 1),
            utc(2027, 7, 1),
            utc(2028, 1, 1),
        ]
        assert upcoming("cron(0 0 1 MAR-MAY ? *)", SATURDAY, 4) == [
            utc(2027, 3, 1),
            utc(2027, 4, 1),
            utc(2027, 5, 1),
            utc(2028, 3, 1),
        ]
        assert first("cron(0 0 1 NOV-FEB ? *)", utc(2027, 2, 2)) == utc(2027, 11, 1)

    def test_steps(self) -> None:
        at_1305 = utc(2026, 11, 21, 13, 5)
        assert upcoming("cron(0/20 * * * ? *)", at_1305) == [
            utc(2026, 11, 21, 13, 20),
            utc(2026, 11, 21, 13, 40),
            utc(2026, 11, 21, 14, 0),
        ]
        assert upcoming("cron(5/20 * * * ? *)", at_1305) == [
            utc(2026, 11, 21, 13, 25),
            utc(2026, 11, 21, 13, 45),
            utc(2026, 11, 21, 14, 5),
        ]
        assert upcoming("cron(*/30 * * * ? *)", at_1305, 2) == [
            utc(2026, 11, 21, 13, 30),
            utc(2026, 11, 21, 14, 0),
        ]
        assert upcoming("cron(0 8-17/3 * * ? *)", SATURDAY, 3) == [
            utc(2026, 11, 21, 14),
            utc(2026, 11, 21, 17),
            utc(2026, 11, 22, 8),
        ]
        # days 1, 11, 21, 31: the 21st at 00:00 has passed
        assert upcoming("cron(0 0 1/10 * ? *)", SATURDAY, 4) == [
            utc(2026, 12, 1),
            utc(2026, 12, 11),
            utc(2026, 12, 21),
            utc(2026, 12, 31),
        ]

    def test_lists_and_ranges(self) -> None:
        assert upcoming("cron(0,30 9,17 * * ? *)", SATURDAY, 4) == [
            utc(2026, 11, 21, 17, 0),
            utc(2026, 11, 21, 17, 30),
            utc(2026, 11, 22, 9, 0),
            utc(2026, 11, 22, 9, 30),
        ]
        assert first("cron(0 22-2 * * ? *)", utc(2026, 11, 21, 23, 30)) == utc(2026, 11, 22, 0, 0)

    def test_years(self) -> None:
        assert upcoming("cron(0 0 1 1 ? 2030)", SATURDAY) == [utc(2030, 1, 1)]
        assert first("cron(0 0 1 1 ? 2020-2025)", SATURDAY) is None
        assert upcoming("cron(0 0 1 1 ? 2027,2029)", SATURDAY) == [utc(2027, 1, 1), utc(2029, 1, 1)]
        assert first("cron(0 0 * * ? 2199)", utc(2199, 12, 31, 0, 0)) is None

    def test_result_is_utc_for_any_input_zone(self) -> None:
        tokyo = datetime(2026, 11, 22, 12, 0, tzinfo=timezone(timedelta(hours=9)))  # 03:00 UTC
        result = first("cron(0 3 * * ? *)", tokyo)
        assert result == utc(2026, 11, 23, 3, 0)
        assert result is not None and result.tzinfo is UTC

    def test_case_and_spacing(self) -> None:
        assert first("cron(0  9 ?  * mon-fri  *)", SATURDAY) == utc(2026, 11, 23, 9)
        assert first("cron(0 9 1 jan ? *)", SATURDAY) == utc(2027, 1, 1, 9)

    def test_timezone(self) -> None:
        # Paris is UTC+1 in winter and UTC+2 in summer
        assert first("cron(0 9 * * ? *)", SATURDAY, "Europe/Paris") == utc(2026, 11, 22, 8, 0)
        assert first("cron(0 9 * * ? *)", utc(2026, 7, 1), "Europe/Paris") == utc(2026, 7, 1, 7, 0)
        assert first("cron(0 9 * * ? *)", SATURDAY, "UTC") == utc(2026, 11, 22, 9, 0)

    def test_timezone_daylight_saving_changes(self) -> None:
        # New York falls back on Sunday 1 Nov 2026: 01:30 happens twice, the schedule fires once
        fall = upcoming("cron(30 1 * * ? *)", utc(2026, 10, 31, 12), 3, "America/New_York")
        assert fall == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30), utc(2026, 11, 3, 6, 30)]
        # ... and springs forward on Sunday 8 Mar 2026: 02:30 does not exist, it fires at 03:30 EDT
        spring = upcoming("cron(30 2 * * ? *)", utc(2026, 3, 7, 12), 3, "America/New_York")
        assert spring == [utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30), utc(2026, 3, 10, 6, 30)]

    def test_matches(self) -> None:
        schedule = parse_schedule("cron(0 12 ? * 3#2 *)")
        assert isinstance(schedule, CronSchedule)
        assert schedule.matches(utc(2026, 1, 13, 12, 0))
        assert schedule.matches(datetime(2026, 1, 13, 12, 0))  # naive = wall time
        assert not schedule.matches(utc(2026, 1, 13, 12, 0, 1))
        assert not schedule.matches(utc(2026, 1, 6, 12, 0))
        assert not schedule.matches(utc(2026, 1, 13, 13, 0))

    def test_naive_datetime_rejected(self) -> None:
        for expression in ("cron(0 9 * * ? *)", "rate(5 minutes)", "at(2026-11-21T10:00:00)"):
            with pytest.raises(ValueError, match="timezone-aware"):
                parse_schedule(expression).next_after(datetime(2026, 11, 21))


# --------------------------------------------------------------------------------------
# at()
# --------------------------------------------------------------------------------------


class TestAt:
    def test_fires_once(self) -> None:
        schedule = parse_schedule("at(2026-11-21T10:00:00)")
        assert isinstance(schedule, AtSchedule)
        assert schedule.next_after(utc(2026, 11, 21, 9, 59, 59)) == utc(2026, 11, 21, 10, 0)
        assert schedule.next_after(utc(2026, 11, 21, 10, 0)) is None
        assert schedule.upcoming(utc(2026, 1, 1), 5) == [utc(2026, 11, 21, 10, 0)]

    def test_timezone(self) -> None:
        assert first("at(2026-11-21T10:00:00)", utc(2026, 1, 1), "Europe/Paris") == utc(2026, 11, 21, 9, 0)

    def test_not_for_event_rules(self) -> None:
        with pytest.raises(ScheduleError, match=r"EventBridge Scheduler \(ScheduleV2\)"):
            parse_schedule("at(2026-11-21T10:00:00)", allow_at=False)
        assert isinstance(parse_schedule("rate(1 day)", allow_at=False), RateSchedule)

    @pytest.mark.parametrize(
        "expression",
        [
            "at(2026-11-21 10:00:00)",
            "at(2026-11-21T10:00)",
            "at(2026-11-21)",
            "at(2026-13-01T00:00:00)",
            "at()",
        ],
    )
    def test_errors(self, expression: str) -> None:
        with pytest.raises(ScheduleError, match=re.escape("at(2026-11-21T10:00:00)")):
            parse_schedule(expression)


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

BAD_EXPRESSIONS = [
    ("cron(0 3 * * *)", "6 fields.*got 5.*Year"),
    ("cron(0 0 3 * * ? *)", "6 fields.*got 7"),
    ("cron(0 3 * * * *)", r"exactly one of Day-of-month and Day-of-week must be \? \(neither"),
    ("cron(0 3 ? * ? *)", r"\(both are \?\)"),
    ("cron(0 3 ? * MON-FRI)", "got 5"),
    ("cron(0 3 ? * 0 *)", "1 = SUN to 7 = SAT"),
    ("cron(0 3 ? * 8 *)", "Day-of-week field: 8 is out of range 1-7"),
    ("cron(60 3 * * ? *)", "Minutes field: 60 is out of range 0-59"),
    ("cron(0 24 * * ? *)", "Hours field: 24 is out of range 0-23"),
    ("cron(0 3 32 * ? *)", "Day-of-month field: 32 is out of range 1-31"),
    ("cron(0 3 0 * ? *)", "Day-of-month field: 0 is out of range"),
    ("cron(0 3 1 13 ? *)", "Month field: 13 is out of range 1-12"),
    ("cron(0 3 1 FOO ? *)", "Month field: 'FOO' is not a value"),
    ("cron(0 3 ? * MONDAY *)", "Day-of-week field: 'MONDAY' is not a value"),
    ("cron(0 3 1 1 ? 1969)", "Year field: 1969 is out of range 1970-2199"),
    ("cron(0 3 1 1 ? 2200)", "Year field: 2200 is out of range"),
    ("cron(0 3 1 1 ? 2030-2026)", "runs backwards"),
    ("cron(*/0 3 * * ? *)", "step .* must be a positive number"),
    ("cron(0/x 3 * * ? *)", "step .* must be a positive number"),
    ("cron(0 3 L,15 * ? *)", "stand alone"),
    ("cron(0 3 LW * ? *)", "'L' is not a value"),
    ("cron(0 3 ? * 3#6 *)", "the n in day#n must be 1-5"),
    ("cron(0 3 ? * 3#2,4 *)", "the n in day#n must be 1-5"),
    ("cron(0 3 ? * 6L,2 *)", "L stands alone"),
    ("cron(a 3 * * ? *)", "Minutes field: 'A' is not a value"),
    ("cron(1-2-3 3 * * ? *)", "not a value"),
    ("0 3 * * *", r"not a schedule expression.*6th Year field: cron\(0 3 \* \* \? \*\)"),
    ("every 5 minutes", "not a schedule expression"),
    ("Rate(5 minutes)", "not a schedule expression"),
    ("cron(0 3 * * ? *", "not a schedule expression"),
    ("", "not a schedule expression"),
]


class TestErrors:
    @pytest.mark.parametrize(("expression", "message"), BAD_EXPRESSIONS)
    def test_message(self, expression: str, message: str) -> None:
        with pytest.raises(ScheduleError, match=message):
            parse_schedule(expression)

    @pytest.mark.parametrize(
        "expression",
        [e for e, _ in BAD_EXPRESSIONS] + ["rate(1 minutes)", "rate(5 seconds)", "rate(5)", "at(2026-11-21)"],
    )
    def test_every_message_shows_a_valid_example(self, expression: str) -> None:
        with pytest.raises(ScheduleError) as err:
            parse_schedule(expression)
        message = str(err.value)
        found = re.findall(r"(?:rate|cron|at)\([^()]*\)", message)
        # leave out the expression itself and syntax templates such as at(yyyy-mm-ddThh:mm:ss)
        examples = [m for m in found if m != expression.strip() and "yyyy" not in m and "value unit" not in m]
        assert examples, message
        for example in examples:
            parse_schedule(example)  # every example in a message is itself valid

    def test_is_a_value_error(self) -> None:
        assert issubclass(ScheduleError, ValueError)

    def test_not_a_string(self) -> None:
        with pytest.raises(ScheduleError, match="is a string"):
            parse_schedule(5)  # type: ignore[arg-type]

    def test_unknown_timezone(self) -> None:
        with pytest.raises(ScheduleError, match="unknown timezone 'Mars/Olympus'"):
            parse_schedule("cron(0 9 * * ? *)", "Mars/Olympus")


# --------------------------------------------------------------------------------------
# Property test against an independent oracle
# --------------------------------------------------------------------------------------

DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]  # AWS 1..7
MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def aws_weekday(day: date) -> int:
    """1 = Sunday ... 7 = Saturday, from isoweekday (Monday = 1 ... Sunday = 7)."""
    return day.isoweekday() % 7 + 1


def last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


@dataclass(frozen=True)
class Field:
    text: str
    values: frozenset[int]


def numeric_field(
    low: int, high: int, names: list[str] | None = None, wrap: bool = True
) -> st.SearchStrategy[Field]:
    def token(draw: st.DrawFn, value: int) -> str:
        if names and draw(st.booleans()):
            return names[value - low]
        return str(value)

    @st.composite
    def single(draw: st.DrawFn) -> Field:
        value = draw(st.integers(low, high))
        return Field(token(draw, value), frozenset({value}))

    @st.composite
    def span(draw: st.DrawFn) -> Field:
        a, b = draw(st.integers(low, high)), draw(st.integers(low, high))
        if a > b and not wrap:
            a, b = b, a
        values = range(a, b + 1) if a <= b else [*range(a, high + 1), *range(low, b + 1)]
        return Field(f"{token(draw, a)}-{token(draw, b)}", frozenset(values))

    @st.composite
    def stepped(draw: st.DrawFn) -> Field:
        step = draw(st.integers(1, high - low + 1))
        if draw(st.booleans()):
            return Field(f"*/{step}", frozenset(range(low, high + 1, step)))
        start = draw(st.integers(low, high))
        return Field(f"{start}/{step}", frozenset(range(start, high + 1, step)))

    @st.composite
    def listed(draw: st.DrawFn) -> Field:
        values = draw(st.lists(st.integers(low, high), min_size=1, max_size=4))
        return Field(",".join(token(draw, v) for v in values), frozenset(values))

    every = st.just(Field("*", frozenset(range(low, high + 1))))
    return st.one_of(every, single(), span(), stepped(), listed())


DayRule = Callable[[date], bool]


@st.composite
def day_fields(draw: st.DrawFn) -> tuple[str, str, DayRule]:
    """(day-of-month text, day-of-week text, which dates match), exactly one of them ?."""
    kind = draw(st.sampled_from(["dom", "dom-L", "dom-W", "dow", "dow-L", "dow-nL", "dow-#"]))
    if kind == "dom":
        f = draw(numeric_field(1, 31))
        return f.text, "?", lambda d: d.day in f.values
    if kind == "dom-L":
        return "L", "?", lambda d: d.day == last_day(d)
    if kind == "dom-W":
        n = draw(st.integers(1, 31))

        def nearest_weekday(d: date) -> bool:
            length = last_day(d)
            if n > length:
                return False
            weekdays = [x for x in range(1, length + 1) if d.replace(day=x).isoweekday() <= 5]
            return d.day == min(weekdays, key=lambda x: abs(x - n))

        return f"{n}W", "?", nearest_weekday
    if kind == "dow":
        f = draw(numeric_field(1, 7, DAY_NAMES))
        return "?", f.text, lambda d: aws_weekday(d) in f.values
    if kind == "dow-L":
        return "?", "L", lambda d: aws_weekday(d) == 7
    weekday = draw(st.integers(1, 7))
    if kind == "dow-nL":
        return "?", f"{weekday}L", lambda d: aws_weekday(d) == weekday and d.day + 7 > last_day(d)
    nth = draw(st.integers(1, 5))
    return "?", f"{weekday}#{nth}", lambda d: aws_weekday(d) == weekday and (d.day - 1) // 7 + 1 == nth


@dataclass(frozen=True)
class Expectation:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_rule: DayRule

    def date_matches(self, d: date) -> bool:
        return d.year in self.years and d.month in self.months and self.day_rule(d)

    def matches(self, dt: datetime) -> bool:
        return (
            dt.second == 0
            and dt.microsecond == 0
            and dt.minute in self.minutes
            and dt.hour in self.hours
            and self.date_matches(dt.date())
        )


@st.composite
def cron_expressions(draw: st.DrawFn) -> Expectation:
    minutes = draw(numeric_field(0, 59))
    hours = draw(numeric_field(0, 23))
    months = draw(numeric_field(1, 12, MONTH_NAMES))
    dom, dow, rule = draw(day_fields())
    year_kind = draw(st.sampled_from(["*", "from", "list"]))
    if year_kind == "*":
        years = Field("*", frozenset(range(1970, 2200)))
    elif year_kind == "from":
        start = draw(st.integers(2000, 2150))
        years = Field(f"{start}-2199", frozenset(range(start, 2200)))
    else:
        listed = draw(st.lists(st.integers(2000, 2199), min_size=1, max_size=3))
        years = Field(",".join(map(str, listed)), frozenset(listed))
    expression = f"cron({minutes.text} {hours.text} {dom} {months.text} {dow} {years.text})"
    return Expectation(expression, minutes.values, hours.values, months.values, years.values, rule)


SCAN_DAYS = 3000


def earlier_match(expect: Expectation, after: datetime, before: datetime | None) -> datetime | None:
    """A matching minute strictly between ``after`` and ``before`` (None = open), scanning by day."""
    day = after.date()
    for _ in range(SCAN_DAYS):
        if day.year > 2199 or (before is not None and day > before.date()):
            return None
        if expect.date_matches(day):
            for hour in sorted(expect.hours):
                for minute in sorted(expect.minutes):
                    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                    if candidate > after and (before is None or candidate < before):
                        return candidate
        day += timedelta(days=1)
    return None


class TestProperties:
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        expect=cron_expressions(),
        after=st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2150, 12, 31), timezones=st.just(UTC)
        ),
    )
    def test_next_after_is_the_first_match(self, expect: Expectation, after: datetime) -> None:
        schedule = parse_schedule(expect.expression)
        assert isinstance(schedule, CronSchedule)
        result = schedule.next_after(after)
        if result is None:
            assert earlier_match(expect, after, None) is None, expect.expression
            return
        assert result > after
        assert result.tzinfo is UTC
        assert expect.matches(result), (expect.expression, result)
        assert schedule.matches(result)
        assert earlier_match(expect, after, result) is None, (expect.expression, after, result)

    @given(
        value=st.integers(1, 500),
        unit=st.sampled_from(["minute", "hour", "day"]),
        after=st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2150, 1, 1), timezones=st.just(UTC)
        ),
    )
    def test_rate_adds_its_period(self, value: int, unit: str, after: datetime) -> None:
        expression = f"rate({value} {unit if value == 1 else unit + 's'})"
        result = parse_schedule(expression).next_after(after)
        assert result == after + timedelta(**{unit + "s": value})
        wrong = f"rate({value} {unit + 's' if value == 1 else unit})"
        with pytest.raises(ScheduleError):
            parse_schedule(wrong)

    @given(
        expect=cron_expressions(),
        after=st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        ),
    )
    @settings(max_examples=100, deadline=None)
    def test_upcoming_is_strictly_increasing(self, expect: Expectation, after: datetime) -> None:
        times = parse_schedule(expect.expression).upcoming(after, 5)
        assert all(a < b for a, b in itertools.pairwise(times))
        assert all(expect.matches(t) for t in times)
