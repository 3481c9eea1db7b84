"""ML module `datetime`: naive dates, times and durations.

Library objects: DateTimeObject, Date, Time, TimeDelta (each wraps a Python value ML never
sees). Names of days and months are English whatever the process locale. Time zones are not
attached to values: `now(x)` gives the current UTC time as a naive value, and `parseISO` keeps
the wall-clock time of a text with an offset, dropping the offset.
"""

from __future__ import annotations

import datetime as _dt

from ..runtime.capped import Budget
from ..runtime.values import MLObject, typeof
from . import LibraryModule

module = LibraryModule("datetime", "Dates, times and durations (naive, English names)")

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
_STRFTIME_FLAGS = "-_0^#"


# ---------------------------------------------------------------------------------------------
# helpers


def _number(value, what: str):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, not {typeof(value)}")
    return value


def _integer(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError(f"{what} must be an integer, not {typeof(value)}")
    return value


def _moment(value, what: str = "argument") -> _dt.datetime:
    """A DateTimeObject's or Date's value as a Python datetime (a Date at midnight)."""
    if isinstance(value, DateTimeObject):
        return value._value
    if isinstance(value, Date):
        return _dt.datetime.combine(value._value, _dt.time())
    raise TypeError(f"{what} must be a DateTimeObject or Date, not {typeof(value)}")


def _day(value, what: str = "argument") -> _dt.date:
    if isinstance(value, DateTimeObject):
        return value._value.date()
    if isinstance(value, Date):
        return value._value
    raise TypeError(f"{what} must be a DateTimeObject or Date, not {typeof(value)}")


def _delta(value, what: str = "argument") -> _dt.timedelta:
    if isinstance(value, TimeDelta):
        return value._value
    raise TypeError(f"{what} must be a TimeDelta, not {typeof(value)}")


def _shift(value, delta: _dt.timedelta):
    try:
        return value + delta
    except OverflowError:
        raise OverflowError("date value out of range") from None


def _strftime(value, fmt: str) -> str:
    """strftime with English day and month names and C-locale %c %x %X %p."""
    if not isinstance(fmt, str):
        raise TypeError(f"format must be a string, not {typeof(fmt)}")
    out = []
    budget = Budget()               # the result is held to the string cap as it is built
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch != "%" or i + 1 >= n:
            out.append(ch)
            budget.spend(1)
            i += 1
            continue
        j = i + 1
        flag = ""
        if fmt[j] in _STRFTIME_FLAGS and j + 1 < n:
            flag = fmt[j]
            j += 1
        part = _directive(value, flag, fmt[j])
        budget.spend(len(part))
        out.append(part)
        i = j + 1
    return "".join(out)


def _directive(value, flag: str, code: str) -> str:
    has_time = isinstance(value, _dt.datetime)
    if code == "%":
        return "%"
    text = None
    if code == "a":
        text = _DAY_NAMES[value.weekday()][:3]
    elif code == "A":
        text = _DAY_NAMES[value.weekday()]
    elif code in "bh":
        text = _MONTH_NAMES[value.month - 1][:3]
    elif code == "B":
        text = _MONTH_NAMES[value.month - 1]
    elif code == "p":
        text = "PM" if has_time and value.hour >= 12 else "AM"
    elif code == "c":
        hms = value.strftime("%H:%M:%S") if has_time else "00:00:00"
        text = (f"{_DAY_NAMES[value.weekday()][:3]} {_MONTH_NAMES[value.month - 1][:3]} "
                f"{value.day:2d} {hms} {value.year:04d}")
    elif code == "x":
        text = f"{value.month:02d}/{value.day:02d}/{value.year % 100:02d}"
    elif code == "X":
        text = value.strftime("%H:%M:%S") if has_time else "00:00:00"
    if text is not None:
        return text.upper() if flag == "^" else text
    if not (code.isascii() and code.isalpha()):
        return "%" + flag + code
    return value.strftime("%" + flag + code)


def _iso(value: _dt.datetime) -> str:
    return value.isoformat()


# ---------------------------------------------------------------------------------------------
# library objects


class _Wrapped(MLObject):
    """A library object around one Python date/time value; equal when the values are."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value

    def __eq__(self, other):
        return type(other) is type(self) and other._value == self._value

    def __hash__(self):
        return hash(self._value)


class _DateParts(_Wrapped):
    """year() month() day() weekday() of a date or a date-time."""

    __slots__ = ()

    def year(self) -> int:
        """The year."""
        return self._value.year

    def month(self) -> int:
        """The month, 1-12."""
        return self._value.month

    def day(self) -> int:
        """The day of the month."""
        return self._value.day

    def weekday(self) -> int:
        """The day of the week, Monday = 0."""
        return self._value.weekday()


class _ClockParts(_Wrapped):
    """hour() minute() second() of a time or a date-time."""

    __slots__ = ()

    def hour(self) -> int:
        """The hour, 0-23."""
        return self._value.hour

    def minute(self) -> int:
        """The minute, 0-59."""
        return self._value.minute

    def second(self) -> int:
        """The second, 0-59."""
        return self._value.second


class DateTimeObject(_DateParts, _ClockParts):
    """A naive date and time."""

    ml_type = "DateTimeObject"
    ml_members = {name: name for name in (
        "year", "month", "day", "hour", "minute", "second", "weekday", "timestamp", "date",
        "time", "format", "toISOString", "toString", "addDays", "addHours", "addMinutes",
        "addSeconds", "add", "subtract", "diff", "startOfDay", "endOfDay", "startOfMonth",
        "endOfMonth", "startOfYear", "endOfYear", "isBefore", "isAfter", "isSame", "isSameDay")}
    ml_members.update({
        "to_string": "toString", "add_days": "addDays", "add_hours": "addHours",
        "add_minutes": "addMinutes", "add_seconds": "addSeconds", "start_of_day": "startOfDay",
        "end_of_day": "endOfDay", "start_of_month": "startOfMonth", "end_of_month": "endOfMonth",
        "start_of_year": "startOfYear", "end_of_year": "endOfYear", "is_same_day": "isSameDay"})

    def timestamp(self) -> float:
        """Seconds since the epoch, reading this value as local time."""
        try:
            return self._value.timestamp()
        except (OverflowError, OSError, ValueError) as exc:
            raise RuntimeError(f"Invalid timestamp: {exc}") from None

    def date(self) -> "Date":
        """The date part as a Date."""
        return Date(self._value.date())

    def time(self) -> "Time":
        """The time part as a Time."""
        return Time(self._value.time())

    def format(self, fmt="%Y-%m-%d %H:%M:%S") -> str:
        """The value formatted with strftime directives (English names)."""
        return _strftime(self._value, fmt)

    def toISOString(self) -> str:
        """ISO 8601 text, e.g. 2024-02-28T14:30:05."""
        return _iso(self._value)

    def toString(self) -> str:
        """ISO 8601 text, e.g. 2024-02-28T14:30:05."""
        return _iso(self._value)

    def addDays(self, n) -> "DateTimeObject":
        """A new value n days later (negative: earlier)."""
        return DateTimeObject(_shift(self._value, _dt.timedelta(days=_number(n, "days"))))

    def addHours(self, n) -> "DateTimeObject":
        """A new value n hours later."""
        return DateTimeObject(_shift(self._value, _dt.timedelta(hours=_number(n, "hours"))))

    def addMinutes(self, n) -> "DateTimeObject":
        """A new value n minutes later."""
        return DateTimeObject(_shift(self._value, _dt.timedelta(minutes=_number(n, "minutes"))))

    def addSeconds(self, n) -> "DateTimeObject":
        """A new value n seconds later."""
        return DateTimeObject(_shift(self._value, _dt.timedelta(seconds=_number(n, "seconds"))))

    def add(self, delta) -> "DateTimeObject":
        """A new value a TimeDelta later."""
        return DateTimeObject(_shift(self._value, _delta(delta)))

    def subtract(self, delta) -> "DateTimeObject":
        """A new value a TimeDelta earlier."""
        return DateTimeObject(_shift(self._value, -_delta(delta)))

    def diff(self, other) -> "TimeDelta":
        """The TimeDelta this - other."""
        return TimeDelta(self._value - _moment(other, "other"))

    def startOfDay(self) -> "DateTimeObject":
        """Midnight of the same day."""
        return DateTimeObject(self._value.replace(hour=0, minute=0, second=0, microsecond=0))

    def endOfDay(self) -> "DateTimeObject":
        """23:59:59.999999 of the same day."""
        return DateTimeObject(self._value.replace(hour=23, minute=59, second=59,
                                                  microsecond=999999))

    def startOfMonth(self) -> "DateTimeObject":
        """Midnight of the first day of the month."""
        return DateTimeObject(_dt.datetime(self._value.year, self._value.month, 1))

    def endOfMonth(self) -> "DateTimeObject":
        """23:59:59.999999 of the last day of the month."""
        v = self._value
        return DateTimeObject(_dt.datetime(v.year, v.month, _days_in_month(v.year, v.month),
                                           23, 59, 59, 999999))

    def startOfYear(self) -> "DateTimeObject":
        """Midnight of January 1st."""
        return DateTimeObject(_dt.datetime(self._value.year, 1, 1))

    def endOfYear(self) -> "DateTimeObject":
        """23:59:59.999999 of December 31st."""
        return DateTimeObject(_dt.datetime(self._value.year, 12, 31, 23, 59, 59, 999999))

    def isBefore(self, other) -> bool:
        """True if this is earlier than other."""
        return self._value < _moment(other, "other")

    def isAfter(self, other) -> bool:
        """True if this is later than other."""
        return self._value > _moment(other, "other")

    def isSame(self, other) -> bool:
        """True if this is the same moment as other."""
        return self._value == _moment(other, "other")

    def isSameDay(self, other) -> bool:
        """True if this falls on the same calendar day as other."""
        return self._value.date() == _day(other, "other")


class Date(_DateParts):
    """A calendar date."""

    ml_type = "Date"
    ml_members = frozenset({"year", "month", "day", "weekday", "isWeekend", "toISOString",
                            "addDays", "subtractDays", "diff"})

    def isWeekend(self) -> bool:
        """True on Saturday and Sunday."""
        return self._value.weekday() >= 5

    def toISOString(self) -> str:
        """ISO 8601 text, e.g. 2024-01-01."""
        return self._value.isoformat()

    def addDays(self, n) -> "Date":
        """The date n days later (negative: earlier)."""
        return Date(_shift(self._value, _dt.timedelta(days=_integer(n, "days"))))

    def subtractDays(self, n) -> "Date":
        """The date n days earlier."""
        return Date(_shift(self._value, -_dt.timedelta(days=_integer(n, "days"))))

    def diff(self, other) -> int:
        """Whole days this - other."""
        return (self._value - _day(other, "other")).days


class Time(_ClockParts):
    """A time of day."""

    ml_type = "Time"
    ml_members = frozenset({"hour", "minute", "second"})


class TimeDelta(_Wrapped):
    """A duration (days, seconds within the day, microseconds)."""

    ml_type = "TimeDelta"
    ml_members = frozenset({"days", "seconds", "totalSeconds", "totalMinutes", "totalHours",
                            "totalDays", "add", "subtract", "multiply", "isNegative", "abs"})

    def days(self) -> int:
        """Whole days (negative for negative durations)."""
        return self._value.days

    def seconds(self) -> int:
        """Seconds within the last day, 0-86399."""
        return self._value.seconds

    def totalSeconds(self) -> float:
        """The whole duration in seconds."""
        return self._value.total_seconds()

    def totalMinutes(self) -> float:
        """The whole duration in minutes."""
        return self._value.total_seconds() / 60

    def totalHours(self) -> float:
        """The whole duration in hours."""
        return self._value.total_seconds() / 3600

    def totalDays(self) -> float:
        """The whole duration in days."""
        return self._value.total_seconds() / 86400

    def add(self, d) -> "TimeDelta":
        """The sum of two durations."""
        return TimeDelta(_shift(self._value, _delta(d)))

    def subtract(self, d) -> "TimeDelta":
        """This duration minus another."""
        return TimeDelta(_shift(self._value, -_delta(d)))

    def multiply(self, f) -> "TimeDelta":
        """This duration times a number."""
        try:
            return TimeDelta(self._value * _number(f, "factor"))
        except OverflowError:
            raise OverflowError("date value out of range") from None

    def isNegative(self) -> bool:
        """True if the duration is below zero."""
        return self._value < _dt.timedelta(0)

    def abs(self) -> "TimeDelta":
        """The duration without its sign."""
        return TimeDelta(abs(self._value))


# ---------------------------------------------------------------------------------------------
# module functions


def _is_leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if _is_leap(y) else 28
    return 30 if m in (4, 6, 9, 11) else 31


@module.function()
def create(y, m, d, hour=0, minute=0, second=0):
    """A DateTimeObject from its components."""
    try:
        return DateTimeObject(_dt.datetime(y, m, d, hour, minute, second))
    except (TypeError, ValueError, OverflowError) as exc:
        raise RuntimeError(f"Invalid datetime components: {exc}") from None


@module.function()
def createDate(y, m, d):
    """A Date from year, month and day."""
    try:
        return Date(_dt.date(y, m, d))
    except (TypeError, ValueError, OverflowError) as exc:
        raise RuntimeError(f"Invalid date components: {exc}") from None


@module.function()
def createTime(h=0, m=0, s=0, us=0):
    """A Time from hour, minute, second and microsecond."""
    try:
        return Time(_dt.time(h, m, s, us))
    except (TypeError, ValueError, OverflowError) as exc:
        raise RuntimeError(f"Invalid time components: {exc}") from None


@module.function()
def createDelta(days=0, hours=0, minutes=0, seconds=0):
    """A TimeDelta from days, hours, minutes and seconds."""
    try:
        return TimeDelta(_dt.timedelta(days=_number(days, "days"), hours=_number(hours, "hours"),
                                       minutes=_number(minutes, "minutes"),
                                       seconds=_number(seconds, "seconds")))
    except OverflowError:
        raise OverflowError("date value out of range") from None


@module.function()
def createTimeZone(hours, minutes=0, name=""):
    """A time-zone description {hours, minutes, name}; default name like UTC+5:00."""
    hours = _integer(hours, "hours")
    minutes = _integer(minutes, "minutes")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, not {typeof(name)}")
    if not name:
        sign = "-" if hours < 0 or (hours == 0 and minutes < 0) else "+"
        name = f"UTC{sign}{abs(hours)}:{abs(minutes):02d}"
    return {"hours": hours, "minutes": minutes, "name": name}


@module.function()
def parseISO(text):
    """A DateTimeObject from ISO 8601 text (an offset or Z is dropped, wall clock kept)."""
    if not isinstance(text, str):
        raise TypeError(f"parseISO expects a string, not {typeof(text)}")
    try:
        value = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise RuntimeError(f"Invalid ISO datetime: '{text}'") from None
    return DateTimeObject(value.replace(tzinfo=None))


@module.function("fromTimestamp", "from_timestamp")
def fromTimestamp(s):
    """The local DateTimeObject of epoch seconds s."""
    try:
        return DateTimeObject(_dt.datetime.fromtimestamp(_number(s, "timestamp")))
    except (OverflowError, OSError, ValueError) as exc:
        raise RuntimeError(f"Invalid timestamp: {exc}") from None


@module.function()
def now(utc=None):
    """The current local time; with an argument, the current UTC time (naive)."""
    if utc is None:
        return DateTimeObject(_dt.datetime.now())
    return DateTimeObject(_dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None))


@module.function()
def today():
    """Today's local Date."""
    return Date(_dt.date.today())


@module.function("utc")
def utc_name():
    """The name of the UTC zone, "UTC"."""
    return "UTC"


@module.function()
def isLeapYear(y):
    """True if y is a leap year."""
    return _is_leap(_integer(y, "year"))


@module.function("daysInMonth", "days_in_month")
def daysInMonth(y, m):
    """The number of days in month m of year y (0 for a bad month)."""
    y = _integer(y, "year")
    m = _integer(m, "month")
    if not 1 <= m <= 12:
        return 0
    return _days_in_month(y, m)


@module.function("isWeekday", "is_weekday")
def isWeekday(dt):
    """True if dt falls on Monday-Friday."""
    return _day(dt, "dt").weekday() < 5


@module.function("isWeekend", "is_weekend")
def isWeekend(dt):
    """True if dt falls on Saturday or Sunday."""
    return _day(dt, "dt").weekday() >= 5


def _weekdays_before(day: _dt.date) -> int:
    """Monday-Friday dates from 0001-01-01 (a Monday) up to, not including, day."""
    weeks, rest = divmod(day.toordinal() - 1, 7)
    return weeks * 5 + min(rest, 5)


@module.function("businessDaysBetween", "business_days_between")
def businessDaysBetween(a, b):
    """The number of Monday-Friday dates from a to b, both included (order does not matter)."""
    first, last = sorted((_day(a, "a"), _day(b, "b")))
    return _weekdays_before(last) + (1 if last.weekday() < 5 else 0) - _weekdays_before(first)


@module.function("addBusinessDays", "add_business_days")
def addBusinessDays(dt, n):
    """dt moved by n Monday-Friday days (same kind as dt, time kept)."""
    n = _integer(n, "n")
    if isinstance(dt, DateTimeObject):
        value = dt._value
    elif isinstance(dt, Date):
        value = dt._value
    else:
        raise TypeError(f"dt must be a DateTimeObject or Date, not {typeof(dt)}")
    day = _dt.timedelta(days=1)
    # From a weekend day, counting forward starts from the Friday before, backward from the
    # Monday after: Saturday + 1 business day is Monday.
    if n > 0:
        while value.weekday() >= 5:
            value = _shift(value, -day)
    elif n < 0:
        while value.weekday() >= 5:
            value = _shift(value, day)
    weeks, rest = divmod(abs(n), 5)
    step = day if n > 0 else -day
    value = _shift(value, step * 7 * weeks)
    while rest:
        value = _shift(value, step)
        if value.weekday() < 5:
            rest -= 1
    return DateTimeObject(value) if isinstance(dt, DateTimeObject) else Date(value)


@module.function("calculateAge", "calculate_age")
def calculateAge(birth, at=None):
    """Whole years from birth to at (default: now)."""
    born = _day(birth, "birth")
    when = _dt.date.today() if at is None else _day(at, "at")
    return when.year - born.year - ((when.month, when.day) < (born.month, born.day))
