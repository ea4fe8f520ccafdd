"""The simulated period: day strings, ISO timestamps, UK summer time and retail seasonality.

Time is an integer number of seconds since the period's first day, 00:00 UTC (negative before).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from itertools import accumulate
from random import Random

DAY = 86_400
HOUR = 3_600
_PAST_DAYS = 366 * 12
_FUTURE_DAYS = 400

STORE_WEEKDAY = (0.8, 0.8, 0.85, 0.95, 1.1, 1.6, 0.95)
ONLINE_WEEKDAY = (1.1, 1.0, 1.0, 1.0, 0.9, 0.85, 1.15)
# Local hour of a till transaction (index = hour); Sundays trade 10:00-16:00.
STORE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0.8, 1.0, 1.3, 1.4, 1.3, 1.3, 1.2, 1.1, 0.9, 0.5, 0, 0, 0, 0)
SUNDAY_HOURS = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.9, 1.2, 1.4, 1.4, 1.2, 1.0, 0, 0, 0, 0, 0, 0, 0, 0)
ONLINE_HOURS = (
    0.3,
    0.15,
    0.1,
    0.08,
    0.08,
    0.15,
    0.4,
    0.8,
    1.0,
    1.0,
    1.0,
    1.1,
    1.4,
    1.3,
    1.1,
    1.1,
    1.2,
    1.3,
    1.5,
    1.9,
    2.2,
    2.0,
    1.3,
    0.7,
)


def _last_sunday(year: int, month: int) -> date:
    d = date(year, month, 31)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def black_friday(year: int) -> date:
    d = date(year, 11, 1)
    d += timedelta(days=(4 - d.weekday()) % 7)
    return d + timedelta(days=21)


def easter_sunday(year: int) -> date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month = (h + m - 7 * n + 114) // 31
    day = (h + m - 7 * n + 114) % 31 + 1
    return date(year, month, day)


def _offset_text(sec: int) -> str:
    sign = "+" if sec >= 0 else "-"
    sec = abs(sec)
    return f"{sign}{sec // HOUR:02d}:{sec % HOUR // 60:02d}"


_OFFSETS = {s: _offset_text(s) for s in range(-12 * HOUR, 15 * HOUR, 1800)}
_HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


class Clock:
    """Formats simulation seconds as the ISO strings the source systems write."""

    def __init__(self, start: date, end: date) -> None:
        self.start = start
        self.end = end
        self.n_days = (end - start).days + 1
        self._base = _PAST_DAYS
        first = start - timedelta(days=_PAST_DAYS)
        total = _PAST_DAYS + self.n_days + _FUTURE_DAYS
        self._dates = [first + timedelta(days=i) for i in range(total)]
        self._days = [d.isoformat() for d in self._dates]
        self._ranges = [
            ((_last_sunday(y, 3) - start).days * DAY + HOUR, (_last_sunday(y, 10) - start).days * DAY + HOUR)
            for y in range(first.year, end.year + 2)
        ]
        flags = bytearray(total)
        for i in range(total):
            t0 = (i - self._base) * DAY
            a, b = self._summer(t0), self._summer(t0 + DAY - 1)
            flags[i] = a if a == b else 2
        self._flags = bytes(flags)

    def _summer(self, t: int) -> int:
        for on, off in self._ranges:
            if on <= t < off:
                return 1
        return 0

    def uk_offset(self, t: int) -> int:
        """Seconds east of UTC in Europe/London (and the EU's switch instants) at instant t."""
        f = self._flags[t // DAY + self._base]
        if f == 2:
            f = self._summer(t)
        return f * HOUR

    def day_text(self, day: int) -> str:
        return self._days[day + self._base]

    def date_of(self, day: int) -> date:
        return self._dates[day + self._base]

    def weekday(self, day: int) -> int:
        return self._dates[day + self._base].weekday()

    def iso_z(self, t: int) -> str:
        d, s = divmod(t, DAY)
        return f"{self._days[d + self._base]}T{_HMS[s]}Z"

    def iso_ms_z(self, t: int, ms: int) -> str:
        d, s = divmod(t, DAY)
        return f"{self._days[d + self._base]}T{_HMS[s]}.{ms:03d}Z"

    def iso_local(self, t: int, offset: int) -> str:
        d, s = divmod(t + offset, DAY)
        return f"{self._days[d + self._base]}T{_HMS[s]}{_OFFSETS[offset]}"

    def iso_naive(self, t: int) -> str:
        d, s = divmod(t, DAY)
        return f"{self._days[d + self._base]}T{_HMS[s]}"

    def day_from_date(self, d: date) -> int:
        return (d - self.start).days


def _season(d: date) -> tuple[float, float, bool]:
    """Demand multipliers (store, online) and whether markdowns run on date d."""
    m, dd = d.month, d.day
    k = (d - black_friday(d.year)).days
    if -3 <= k <= 3:
        store = (1.5, 1.6, 1.8, 3.0, 2.2, 1.6, 1.3)[k + 3]
        online = (1.7, 1.8, 2.0, 4.0, 2.6, 2.2, 3.0)[k + 3]
        return store, online, True
    if m == 11:
        return 1.0 + 0.2 * dd / 30, 1.05 + 0.2 * dd / 30, False
    if m == 12:
        if dd <= 23:
            return 1.5 + dd / 23, 1.9 - max(0, dd - 17) * 0.15, False
        if dd == 24:
            return 1.8, 0.7, False
        if dd == 25:
            return 0.0, 0.6, False
        return (2.6 if dd == 26 else 1.7), (2.4 if dd == 26 else 1.6), True
    if m == 1:
        return (1.5 - dd * 0.04, 1.55 - dd * 0.04, True) if dd <= 15 else (0.75, 0.75, True)
    if m == 2:
        return 0.7, 0.72, False
    if m in (3, 4, 5):
        return 0.95, 0.95, False
    if m == 6:
        return (1.55, 1.6, True) if dd >= 24 else (1.0, 1.0, False)
    if m == 7:
        return 1.5 - dd * 0.015, 1.55 - dd * 0.015, True
    if m == 8:
        return 0.9, 0.9, False
    return 1.05, 1.08, False


class Season:
    """Day weights for store visits, online sessions and markdown periods over the period."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        n = clock.n_days
        store, online, sale, closed = [], [], [], []
        easters = {easter_sunday(y) for y in range(clock.start.year, clock.end.year + 1)}
        for day in range(n):
            d = clock.date_of(day)
            s, o, is_sale = _season(d)
            wd = d.weekday()
            is_closed = (d.month == 12 and d.day == 25) or d in easters
            store.append(0.0 if is_closed else s * STORE_WEEKDAY[wd])
            online.append(o * ONLINE_WEEKDAY[wd])
            sale.append(is_sale)
            closed.append(is_closed)
        self.sale = sale
        self.closed = closed
        self.store_cum = list(accumulate(store))
        self.online_cum = list(accumulate(online))
        self.store_bargain_cum = list(accumulate(w * (4.0 if s else 1.0) for w, s in zip(store, sale, strict=True)))
        self.online_bargain_cum = list(accumulate(w * (4.0 if s else 1.0) for w, s in zip(online, sale, strict=True)))
        self.browse_cum = list(accumulate(0.5 + 0.5 * w for w in online))
        self.store_hours = list(accumulate(STORE_HOURS))
        self.sunday_hours = list(accumulate(SUNDAY_HOURS))
        self.online_hours = list(accumulate(ONLINE_HOURS))

    @staticmethod
    def pick_day(cum: list[float], first: int, last: int, r: Random) -> int:
        """A day in [first, last] drawn with the weights behind the cumulative list cum."""
        n = len(cum)
        first = min(max(first, 0), n - 1)
        last = min(max(last, first), n - 1)
        lo = cum[first - 1] if first > 0 else 0.0
        hi = cum[last]
        if hi <= lo:
            return first
        day = bisect_right(cum, lo + r.random() * (hi - lo))
        return min(max(day, first), last)

    @staticmethod
    def pick_hour(cum: list[float], r: Random) -> int:
        return min(bisect_right(cum, r.random() * cum[-1]), len(cum) - 1)

    def store_hour_cum(self, day: int) -> list[float]:
        return self.sunday_hours if self.clock.weekday(day) == 6 else self.store_hours
