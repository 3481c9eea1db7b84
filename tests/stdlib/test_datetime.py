"""The ML `datetime` module (spec §10), called through the library registry."""

import datetime as pydt
import locale

import pytest

import mlpy
import mlpy.stdlib
from mlpy.runtime.context import ExecutionContext, OutputSink, using
from mlpy.runtime.values import MLObject, display, typeof


@pytest.fixture
def dt():
    with using(ExecutionContext(output=OutputSink())):
        yield mlpy.stdlib.load("datetime").members


def test_create_and_accessors(dt):
    d = dt["create"](2024, 2, 28, 14, 30, 5)
    assert isinstance(d, MLObject) and typeof(d) == "DateTimeObject" and display(d) == "<DateTimeObject>"
    assert [d.year(), d.month(), d.day(), d.hour(), d.minute(), d.second()] == [2024, 2, 28, 14, 30, 5]
    assert d.weekday() == 2
    assert d.toISOString() == d.toString() == "2024-02-28T14:30:05"
    assert dt["create"](2024, 1, 2).toISOString() == "2024-01-02T00:00:00"
    assert typeof(d.date()) == "Date" and d.date().toISOString() == "2024-02-28"
    t = d.time()
    assert typeof(t) == "Time" and [t.hour(), t.minute(), t.second()] == [14, 30, 5]
    assert d.timestamp() == pydt.datetime(2024, 2, 28, 14, 30, 5).timestamp()
    # snake-case members are mapped to the same methods
    members = d.ml_members
    for alias, target in {"to_string": "toString", "add_days": "addDays", "add_hours": "addHours",
                          "add_minutes": "addMinutes", "add_seconds": "addSeconds",
                          "start_of_day": "startOfDay", "end_of_day": "endOfDay",
                          "start_of_month": "startOfMonth", "end_of_month": "endOfMonth",
                          "start_of_year": "startOfYear", "end_of_year": "endOfYear",
                          "is_same_day": "isSameDay"}.items():
        assert members[alias] == target
        assert callable(getattr(d, d.ml_attribute(alias)))
    assert d.ml_attribute("to_string") and getattr(d, d.ml_attribute("to_string"))() == d.toString()
    assert not any(name.startswith("_") for name in d.ml_member_names())


@pytest.mark.parametrize("args", [(2023, 2, 29), (2024, 13, 1), (2024, 1, 1, 24), (2024, 1, 1, 0, 60),
                                  (2024, 1, 1, 0, 0, 61), ("2024", 1, 1), (2024.5, 1, 1)])
def test_create_invalid(dt, args):
    with pytest.raises(RuntimeError, match="^Invalid datetime components: "):
        dt["create"](*args)


def test_format_uses_english_names_whatever_the_locale(dt):
    d = dt["create"](2024, 2, 28, 14, 30, 5)
    assert d.format() == "2024-02-28 14:30:05"
    assert d.format("%d/%m/%Y %H:%M") == "28/02/2024 14:30"
    assert d.format("%A %a %B %b %h %p %%") == "Wednesday Wed February Feb Feb PM %"
    assert d.format("%^a %^B") == "WED FEBRUARY"
    assert d.format("%c|%x|%X") == "Wed Feb 28 14:30:05 2024|02/28/24|14:30:05"
    assert d.format("%j %y %I %M %S") == "059 24 02 30 05"
    assert dt["create"](2024, 2, 28, 9).format("%p") == "AM"
    assert d.format("trailing %") == "trailing %"
    old = locale.setlocale(locale.LC_TIME)
    try:
        for name in ("de_DE.UTF-8", "fr_FR.UTF-8"):
            try:
                locale.setlocale(locale.LC_TIME, name)
            except locale.Error:
                continue
            assert d.format("%A %B") == "Wednesday February"
    finally:
        locale.setlocale(locale.LC_TIME, old)
    with pytest.raises(TypeError):
        d.format(5)


def test_arithmetic_and_boundaries(dt):
    d = dt["create"](2024, 2, 28, 14, 30, 5)
    assert d.addDays(2).toISOString() == "2024-03-01T14:30:05"
    assert d.addDays(-28).toISOString() == "2024-01-31T14:30:05"
    assert d.addHours(10).toISOString() == "2024-02-29T00:30:05"
    assert d.addMinutes(45).format("%H:%M") == "15:15"
    assert d.addSeconds(60).second() == 5
    assert d.addDays(0.5).toISOString() == "2024-02-29T02:30:05"
    assert d.startOfDay().toISOString() == "2024-02-28T00:00:00"
    assert d.endOfDay().toISOString() == "2024-02-28T23:59:59.999999"
    assert d.endOfMonth().format("%Y-%m-%d %H:%M:%S") == "2024-02-29 23:59:59"
    assert dt["create"](2023, 2, 3).endOfMonth().day() == 28
    assert d.startOfMonth().toISOString() == "2024-02-01T00:00:00"
    assert d.startOfYear().toISOString() == "2024-01-01T00:00:00"
    assert d.endOfYear().toISOString() == "2024-12-31T23:59:59.999999"
    week = dt["createDelta"](7)
    assert d.add(week).toISOString() == "2024-03-06T14:30:05"
    assert d.subtract(week).toISOString() == "2024-02-21T14:30:05"
    with pytest.raises(TypeError):
        d.add(5)
    with pytest.raises(TypeError):
        d.addDays("x")
    with pytest.raises(OverflowError):
        dt["create"](9999, 12, 31).addDays(1)


def test_diff_and_comparisons(dt):
    d = dt["create"](2024, 2, 28, 14, 30, 5)
    later = dt["create"](2024, 3, 10)
    delta = later.diff(d)
    assert typeof(delta) == "TimeDelta"
    assert [delta.days(), delta.seconds(), delta.totalHours()] == [10, 34195, 249.4986111111111]
    neg = d.diff(later)
    assert neg.isNegative() and neg.days() == -11 and 0 <= neg.seconds() < 86400
    assert neg.abs().totalSeconds() == delta.totalSeconds()
    assert [d.isBefore(later), d.isAfter(later)] == [True, False]
    assert d.isSame(dt["create"](2024, 2, 28, 14, 30, 5)) and not d.isSame(later)
    assert d.isSameDay(dt["create"](2024, 2, 28)) and not d.isSameDay(later)
    assert d.isSameDay(dt["createDate"](2024, 2, 28))
    assert dt["create"](2024, 2, 28).isSame(dt["createDate"](2024, 2, 28))
    with pytest.raises(TypeError):
        d.isBefore("2024-01-01")


def test_date_time_delta_objects(dt):
    day = dt["createDate"](2024, 1, 1)
    assert typeof(day) == "Date" and display(day) == "<Date>"
    assert [day.year(), day.month(), day.day(), day.weekday(), day.isWeekend()] == [2024, 1, 1, 0, False]
    assert day.toISOString() == "2024-01-01"
    assert day.addDays(31).toISOString() == "2024-02-01"
    assert day.subtractDays(1).toISOString() == "2023-12-31"
    assert dt["createDate"](2024, 3, 1).diff(day) == 60
    assert day.diff(dt["createDate"](2024, 3, 1)) == -60
    assert dt["createDate"](2024, 1, 6).isWeekend() is True
    with pytest.raises(RuntimeError, match="Invalid date components"):
        dt["createDate"](2024, 2, 30)
    t = dt["createTime"](9, 5, 30)
    assert typeof(t) == "Time" and [t.hour(), t.minute(), t.second()] == [9, 5, 30]
    assert dt["createTime"]().hour() == 0
    with pytest.raises(RuntimeError, match="Invalid time components"):
        dt["createTime"](25)
    span = dt["createDelta"](1, 2, 30)
    assert [span.days(), span.seconds()] == [1, 9000]
    assert span.totalSeconds() == 95400.0 and span.totalMinutes() == 1590.0
    assert span.totalHours() == 26.5 and span.totalDays() == 95400 / 86400
    assert span.multiply(2).totalHours() == 53.0
    assert span.isNegative() is False
    assert span.add(dt["createDelta"](0, 0, 0, 30)).totalSeconds() == 95430.0
    assert span.subtract(dt["createDelta"](2)).isNegative() is True
    assert dt["createDelta"]().totalSeconds() == 0.0
    assert sorted(span.ml_member_names()) == sorted(
        ["days", "seconds", "totalSeconds", "totalMinutes", "totalHours", "totalDays", "add",
         "subtract", "multiply", "isNegative", "abs"])
    assert sorted(day.ml_member_names()) == sorted(
        ["year", "month", "day", "weekday", "isWeekend", "toISOString", "addDays",
         "subtractDays", "diff"])
    assert t.ml_member_names() == ["hour", "minute", "second"]


def test_time_zone_descriptions(dt):
    assert dt["createTimeZone"](5) == {"hours": 5, "minutes": 0, "name": "UTC+5:00"}
    assert dt["createTimeZone"](-3, 30) == {"hours": -3, "minutes": 30, "name": "UTC-3:30"}
    assert dt["createTimeZone"](1, 0, "CET") == {"hours": 1, "minutes": 0, "name": "CET"}
    assert dt["utc"]() == "UTC"


def test_parse_iso_and_timestamps(dt):
    iso = dt["parseISO"]("2023-12-31T23:59:59")
    assert iso.addSeconds(1).toISOString() == "2024-01-01T00:00:00"
    assert dt["parseISO"]("2024-05-06").toISOString() == "2024-05-06T00:00:00"
    assert dt["parseISO"]("2024-05-06T10:00:00+02:00").toISOString() == "2024-05-06T10:00:00"
    assert dt["parseISO"]("2024-05-06T10:00:00Z").hour() == 10
    with pytest.raises(RuntimeError, match="Invalid ISO datetime"):
        dt["parseISO"]("yesterday")
    stamp = 1_700_000_000
    local = pydt.datetime.fromtimestamp(stamp)
    got = dt["fromTimestamp"](stamp)
    assert got.toISOString() == local.isoformat()
    assert dt["from_timestamp"](stamp).timestamp() == stamp
    with pytest.raises(RuntimeError, match="Invalid timestamp"):
        dt["fromTimestamp"](1e20)


def test_now_today(dt):
    before = pydt.datetime.now() - pydt.timedelta(seconds=2)
    now = dt["now"]()
    after = pydt.datetime.now() + pydt.timedelta(seconds=2)
    as_py = pydt.datetime.fromisoformat(now.toISOString())
    assert before <= as_py <= after
    utc = pydt.datetime.fromisoformat(dt["now"](True).toISOString())
    expected = pydt.datetime.now(pydt.timezone.utc).replace(tzinfo=None)
    assert abs((utc - expected).total_seconds()) < 2
    assert dt["today"]().toISOString() == pydt.date.today().isoformat()


def test_calendar_helpers(dt):
    assert [dt["isLeapYear"](y) for y in (2024, 1900, 2000, 2023)] == [True, False, True, False]
    assert [dt["daysInMonth"](2024, 2), dt["daysInMonth"](2023, 2), dt["daysInMonth"](2024, 13),
            dt["days_in_month"](2024, 0), dt["daysInMonth"](2024, 4)] == [29, 28, 0, 0, 30]
    sat = dt["create"](2024, 3, 16)
    assert dt["isWeekend"](sat) and not dt["isWeekday"](sat)
    assert dt["is_weekday"](dt["createDate"](2024, 3, 15)) and not dt["is_weekend"](dt["createDate"](2024, 3, 15))
    with pytest.raises(TypeError):
        dt["isWeekday"]("monday")


def _business_days_slow(a, b):
    a, b = sorted((a, b))
    n = 0
    while a <= b:
        n += a.weekday() < 5
        a += pydt.timedelta(days=1)
    return n


def test_business_days(dt):
    fri = dt["create"](2024, 3, 15)
    assert dt["addBusinessDays"](fri, 1).toISOString() == "2024-03-18T00:00:00"
    assert dt["businessDaysBetween"](fri, dt["create"](2024, 3, 22)) == 6
    assert dt["business_days_between"](dt["create"](2024, 3, 22), fri) == 6
    assert dt["businessDaysBetween"](dt["createDate"](2024, 3, 16), dt["createDate"](2024, 3, 17)) == 0
    start = pydt.date(2024, 1, 1)
    for offset in range(0, 40):
        for length in (0, 1, 5, 6, 13, 100):
            a = start + pydt.timedelta(days=offset)
            b = a + pydt.timedelta(days=length)
            got = dt["businessDaysBetween"](dt["createDate"](a.year, a.month, a.day),
                                            dt["createDate"](b.year, b.month, b.day))
            assert got == _business_days_slow(a, b), (a, b)
    # adding keeps the kind and the time; weekends count from the adjacent business day
    kept = dt["add_business_days"](dt["create"](2024, 3, 15, 9, 30), 5)
    assert kept.toISOString() == "2024-03-22T09:30:00"
    day = dt["addBusinessDays"](dt["createDate"](2024, 3, 16), 1)
    assert typeof(day) == "Date" and day.toISOString() == "2024-03-18"
    assert dt["addBusinessDays"](dt["createDate"](2024, 3, 16), 5).toISOString() == "2024-03-22"
    assert dt["addBusinessDays"](dt["createDate"](2024, 3, 18), -1).toISOString() == "2024-03-15"
    assert dt["addBusinessDays"](dt["createDate"](2024, 3, 17), -1).toISOString() == "2024-03-15"
    assert dt["addBusinessDays"](dt["createDate"](2024, 3, 13), 0).toISOString() == "2024-03-13"
    assert dt["addBusinessDays"](dt["createDate"](2024, 3, 13), 12).toISOString() == "2024-03-29"
    assert dt["addBusinessDays"](dt["createDate"](2024, 3, 13), -12).toISOString() == "2024-02-26"


def test_calculate_age(dt):
    born = dt["create"](1990, 6, 15)
    assert dt["calculateAge"](born, dt["create"](2024, 6, 14)) == 33
    assert dt["calculate_age"](born, dt["createDate"](2024, 6, 15)) == 34
    today = pydt.date.today()
    expected = today.year - 1990 - ((today.month, today.day) < (6, 15))
    assert dt["calculateAge"](born) == expected


def test_docs_and_no_capabilities():
    decl = mlpy.stdlib.declaration("datetime")
    assert decl.capabilities == set()
    for name, fn in decl.members.items():
        assert fn.ml_doc and "\n" not in fn.ml_doc, name
    for aliases in (("daysInMonth", "days_in_month"), ("isWeekday", "is_weekday"),
                    ("isWeekend", "is_weekend"), ("businessDaysBetween", "business_days_between"),
                    ("addBusinessDays", "add_business_days"), ("calculateAge", "calculate_age"),
                    ("fromTimestamp", "from_timestamp")):
        assert decl.members[aliases[0]] is decl.members[aliases[1]]


# --- end to end: ML programs through the compiler ------------------------------------------

EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[1] / "examples"


def test_example_31_datetime_module_output_is_exact():
    source = (EXAMPLES / "31_datetime_module.ml").read_text(encoding="utf-8")
    result = mlpy.run(source)
    assert result.success, result.error
    assert result.stdout == (EXAMPLES / "31_datetime_module.out").read_text(encoding="utf-8")


def test_ml_program_uses_datetime_objects():
    result = mlpy.run('''
import datetime;
d = datetime.create(2024, 12, 31, 23, 0, 0);
print(d, d.add_hours(2).to_string(), d.end_of_day().toISOString(), d.format("%A, %B %d"));
print(typeof(d.date()), typeof(d.time()), typeof(datetime.createTime()), datetime.utc());
print(datetime.createTimeZone(5), datetime.days_in_month(2023, 2));
try { datetime.create(2023, 2, 29); } except (e) { print(e.type, e.message); }
try { d._value; } except (e) { print(e.type); }
result = [d.date().toISOString(), d.diff(datetime.create(2024, 12, 30)).totalHours()];
''')
    assert result.success, result.error
    assert result.stdout.splitlines() == [
        "<DateTimeObject> 2025-01-01T01:00:00 2024-12-31T23:59:59.999999 Tuesday, December 31",
        "Date Time Time UTC",
        '{"hours": 5, "minutes": 0, "name": "UTC+5:00"} 28',
        "RuntimeError Invalid datetime components: day is out of range for month",
        "SecurityError",
    ]
    assert result.value == ["2024-12-31", 47.0]
