"""One person's year across every source system.

`Life(world, person, sink).run()` draws the person's purchases, sessions, accounts, tickets and
consents from the person's own RNG and hands every resulting row to the sink. Nothing here
depends on other persons, the chunk or the emit window, so a life is the same in every run.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from math import exp
from random import Random

from kith.generate import schema as ent
from kith.generate.calendar import DAY, HOUR, Clock, Season
from kith.generate.catalog import Catalog, InventoryLedger, money
from kith.generate.ids import below, rint, scramble, uuid_like
from kith.generate.noise import (
    junk_email,
    junk_phone,
    maybe_shouty,
    name_as_typed,
    phone,
    postcode_as_typed,
    typed_phone,
)
from kith.generate.people import PROFILE_RATES, Cookie, Device, Person
from kith.generate.vocab import (
    APP_RELEASES,
    MOBILE_OCTETS,
    QR_CAMPAIGNS,
    REFERRERS,
    SITE,
    TICKET_SUBJECTS,
    UTM_SOURCES,
)
from kith.generate.writers import Sink

Step = tuple[str, str, int | None, str | None]  # web event type, page path, sku, typed e-mail
RETURN_REASONS = ("damaged", "not_as_described", "changed_mind", "late_delivery")
TIERS = (("platinum", 2000), ("gold", 750), ("silver", 250), ("bronze", 0))
_SIZE_GROUP = {"jeans": "jeans", "shoes": "shoes", "accessories": None}
_UTM_CUM = []
_acc = 0.0
for _s, _m, _w in UTM_SOURCES:
    _acc += _w
    _UTM_CUM.append(_acc)


def poisson(lam: float, r: Random) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(r.gauss(lam, lam**0.5) + 0.5))
    limit, k, p = exp(-lam), 0, 1.0
    while True:
        p *= r.random()
        if p < limit:
            return k
        k += 1


def _campaign(day: int, season: Season, clock: Clock) -> str:
    d = clock.date_of(day)
    tag = f"{d.year % 100:02d}"
    if season.sale[min(max(day, 0), len(season.sale) - 1)]:
        return {11: f"black_friday_{tag}", 12: f"boxing_day_{tag}", 1: f"january_sale_{tag}"}.get(
            d.month, f"summer_sale_{tag}"
        )
    if d.month == 12 or (d.month == 11 and d.day > 10):
        return f"christmas_{tag}"
    if d.month in (3, 4, 5):
        return f"spring_new_in_{tag}"
    if d.month in (9, 10):
        return f"autumn_new_in_{tag}"
    return "always_on"


@dataclass(slots=True)
class World:
    seed: int
    clock: Clock
    season: Season
    catalog: Catalog
    inventory: InventoryLedger
    product_paths: list[str]  # per style
    category_paths: dict[str, str]


def build_world(seed: int, clock: Clock, season: Season, catalog: Catalog) -> World:
    paths = []
    for st in catalog.styles:
        words = "".join(ch if ch.isalnum() else "-" for ch in st.name.lower()).strip("-")
        while "--" in words:
            words = words.replace("--", "-")
        paths.append(f"/products/{words}-{st.style_id.lower()}")
    cats = {st.category: f"/c/{st.category}" for st in catalog.styles}
    return World(seed, clock, season, catalog, InventoryLedger(catalog, clock.n_days), paths, cats)


class Life:
    """Simulates one person and emits their rows."""

    def __init__(self, world: World, person: Person, sink: Sink) -> None:
        self.w = world
        self.p = person
        self.r = person.rng
        self.sink = sink
        self.clock = world.clock
        self.n_days = world.clock.n_days
        self.account_t: int | None = None
        self.account_email: str = ""
        self.account_phone: str | None = None
        self.account_marketing = False
        self.account_names = ("", "")
        self.loyalty_t: int | None = None
        self.loyalty_online = False
        self.points = 0
        self.opening_points = 0
        self.ledger: list[tuple[int, str, int, str | None]] = []
        self.member_updates: list[int] = []
        self.app_logged: dict[str, bool] = {}
        self.app_consent = False
        self.cookies_seen: set[str] = set()
        self.nickname_system: str | None = None
        self.last_activity = person.active_from

    # ------------------------------------------------------------------------------------ run
    def run(self) -> None:
        p, r = self.p, self.r
        if p.nicknames and r.random() < 0.5:
            self.nickname_system = r.choice(("shop", "loyalty", "helpdesk"))
        plan = self._plan_purchases()
        self._plan_accounts(plan)
        for day, channel in plan:
            if channel == "online":
                self._online_order(day)
            else:
                self._store_visit(day)
        self._browse()
        self._app()
        self._newsletter()
        self._random_tickets()
        self._standalone_qr()
        self._crm()
        self._shop_updates()
        self._loyalty_finish()

    def _active_fraction(self) -> float:
        return (self.p.active_until - self.p.active_from + 1) / 365.0

    def _plan_purchases(self) -> list[tuple[int, str]]:
        p, r, season = self.p, self.r, self.w.season
        rate = PROFILE_RATES[p.profile][0]
        if p.profile == "browser":
            n = 0
        elif p.profile == "one_off":
            n = 1
        else:
            n = poisson(rate * r.lognormvariate(0, 0.35) * self._active_fraction(), r)
            if p.profile == "new" and n == 0 and r.random() < 0.7:
                n = 1
        bargain = p.price_sensitivity == "bargain"
        plan = []
        for _ in range(n):
            if r.random() < p.online_share:
                cum = season.online_bargain_cum if bargain else season.online_cum
                plan.append((season.pick_day(cum, p.active_from, p.active_until, r), "online"))
            else:
                cum = season.store_bargain_cum if bargain else season.store_cum
                day = season.pick_day(cum, p.active_from, p.active_until, r)
                if season.closed[day]:
                    day += 1
                if day < self.n_days:
                    plan.append((day, "store"))
        plan.sort()
        return plan

    def _random_time(self, first_day: int, last_day: int) -> int:
        r = self.r
        day = self.w.season.pick_day(self.w.season.browse_cum, first_day, max(first_day, last_day), r)
        hour = self.w.season.pick_hour(self.w.season.online_hours, r)
        return day * DAY + hour * HOUR + below(r, HOUR) - self.clock.uk_offset(day * DAY + 12 * HOUR)

    def _past_time(self, min_days: int, max_days: int) -> int:
        return -rint(self.r, min_days, max_days) * DAY + rint(self.r, 8 * HOUR, 20 * HOUR - 1)

    def _plan_accounts(self, plan: list[tuple[int, str]]) -> None:
        p, r = self.p, self.r
        has_online = any(c == "online" for _, c in plan)
        if p.has_account:
            if p.existing and r.random() < 0.85:
                self._create_account(self._past_time(30, 2500))
            elif not has_online or (p.app_user and r.random() < 0.5):
                self._create_account(self._random_time(p.active_from, p.active_until))
        if p.is_member:
            self.loyalty_online = r.random() < 0.7
            if p.existing and r.random() < 0.8:
                self._enrol(self._past_time(30, 3000), via_pos=False)
            elif not any(c == "store" for _, c in plan):
                self._enrol(self._random_time(p.active_from, p.active_until), via_pos=False)

    # ------------------------------------------------------------------------------ helpers
    def _uk(self, t: int) -> str:
        return self.clock.iso_local(t, self.clock.uk_offset(t))

    def _pick_sku(self, day: int) -> tuple[int, bool]:
        """A SKU the person would buy or view on day, and whether the size is not their own."""
        p, r, cat = self.p, self.r, self.w.catalog
        styles = cat.styles
        cum = p.style_cum
        day_i = min(max(day, 0), self.n_days - 1)
        style = styles[0]
        for _ in range(6):
            style = styles[min(len(styles) - 1, bisect_right(cum, r.random() * cum[-1]))]
            if style.launch_day > day:
                continue
            marked_down = style.prices[day_i] < style.list_price
            if p.price_sensitivity == "bargain" and not marked_down and r.random() < 0.75:
                continue
            if p.price_sensitivity == "full_price" and marked_down and r.random() < 0.5:
                continue
            break
        sizes = style.sizes
        group = _SIZE_GROUP.get(style.category, "clothing")
        off = False
        if group is None:
            k = 0
        else:
            k = sizes.index(p.sizes[group])
            if r.random() < 0.12:
                k2 = min(len(sizes) - 1, max(0, k + r.choice((-1, 1))))
                off = k2 != k
                k = k2
        colour = below(r, len(style.colours))
        return style.skus[colour * len(sizes) + k], off

    def _basket(self, day: int, first: int | None = None) -> list[tuple[int, int, bool]]:
        r = self.r
        n = r.choices((1, 2, 3, 4), (0.55, 0.28, 0.12, 0.05))[0]
        items: list[tuple[int, int, bool]] = []
        if first is not None:
            items.append((first, 1, False))
        seen = {i[0] for i in items}
        for _ in range(n - len(items)):
            sku, off = self._pick_sku(day)
            if sku in seen:
                continue
            seen.add(sku)
            items.append((sku, 2 if r.random() < 0.07 else 1, off))
        return items

    def _price(self, sku: int, day: int) -> tuple[int, int]:
        st = self.w.catalog.styles[self.w.catalog.sku_style[sku]]
        return st.list_price, st.prices[min(max(day, 0), self.n_days - 1)]

    def _cookie(self, day: int, device_type: str | None = None) -> Cookie:
        p, r = self.p, self.r
        if device_type is None:
            x = r.random()
            device_type = "mobile" if x < 0.6 else ("desktop" if x < 0.9 else "tablet")
        best = None
        for c in p.cookies:
            if c.device_type == device_type and c.from_day <= day and (best is None or c.from_day > best.from_day):
                best = c
        if best is None:
            for c in p.cookies:
                if c.device_type == "mobile" and c.from_day <= day and (best is None or c.from_day > best.from_day):
                    best = c
        return best or p.cookies[0]

    def _sku_text(self, sku: int) -> str:
        return self.w.catalog.sku_codes[sku]

    # --------------------------------------------------------------------------------- web
    def _web_session(
        self, day: int, steps: list[Step], cookie: Cookie | None = None, t0: int | None = None, logged_in: bool = False
    ) -> tuple[int, Cookie]:
        """Emit one web session; steps are (event_type, path, sku, email). Returns (last t, cookie)."""
        p, r, clock, sink = self.p, self.r, self.clock, self.sink
        cookie = cookie or self._cookie(day)
        if t0 is None:
            hour = self.w.season.pick_hour(self.w.season.online_hours, r)
            t0 = day * DAY + hour * HOUR + below(r, HOUR) - clock.uk_offset(day * DAY + 12 * HOUR)
        t = t0
        late = r.random() < 0.02
        delay = rint(r, 1, 5) * DAY + below(r, DAY) if late else 0
        utm = None
        if r.random() < 0.35:
            k = min(len(UTM_SOURCES) - 1, bisect_right(_UTM_CUM, r.random() * _UTM_CUM[-1]))
            utm = (UTM_SOURCES[k][0], UTM_SOURCES[k][1], _campaign(day, self.w.season, clock))
        referrer = r.choice(REFERRERS) if utm is None else None
        ip = (
            p.household.ip
            if cookie.device_type != "mobile"
            else f"{r.choice(MOBILE_OCTETS)}.{rint(r, 0, 255)}.{rint(r, 0, 255)}.{rint(r, 1, 254)}"
        )
        user_id = p.shop_customer_id if logged_in else None
        offset_base = p.offset_std
        if cookie.anonymous_id not in self.cookies_seen:
            self.cookies_seen.add(cookie.anonymous_id)
            if r.random() < 0.3:
                self._consent(
                    t0,
                    "ads",
                    "analytics" if r.random() < 0.6 else "profiling",
                    "granted" if r.random() < 0.75 else "withdrawn",
                    "web",
                    anonymous_id=cookie.anonymous_id,
                )
        offset = offset_base + clock.uk_offset(t0)
        rnd, add, iso_local, iso_ms_z = r.random, sink.add, clock.iso_local, clock.iso_ms_z
        session = {
            "anonymous_id": cookie.anonymous_id,
            "device_type": cookie.device_type,
            "user_agent": cookie.user_agent,
            "ip_address": ip,
        }
        if utm:
            session.update(utm_source=utm[0], utm_medium=utm[1], utm_campaign=utm[2])
        for event_type, path, sku, email in steps:
            if event_type == "login":
                user_id = p.shop_customer_id
            x = rnd()
            received = t + delay + int(x * 4)
            row = {
                "event_id": uuid_like(r),
                "event_type": event_type,
                "user_id": user_id,
                "email": email,
                "occurred_at": iso_local(t, offset),
                "received_at": iso_ms_z(received, int(x * 4_000_000) % 1000),
                "page_url": SITE + path,
                "page_path": path,
                "referrer": referrer,
                **session,
            }
            if sku is not None:
                row["sku"] = self._sku_text(sku)
                row["product_price"] = self._price(sku, t // DAY)[1] / 100
            add(ent.WEB_EVENTS, received // DAY, received, row)
            referrer = SITE + path
            t += 4 + int(rnd() * 72)
        self.last_activity = max(self.last_activity, t // DAY)
        return t, cookie

    def _browse_steps(self, day: int, account: bool) -> list[Step]:
        r, w = self.r, self.w
        cat = w.catalog
        steps: list[Step] = []
        x = r.random()
        landing = "/" if x < 0.5 else ("/sale" if x < 0.6 else w.category_paths[self.p.favourite_category])
        steps.append(("page_view", landing, None, None))
        if account and r.random() < 0.12:
            steps.append(("login", "/account/login", None, None))
        for _ in range(min(8, int(r.expovariate(0.6)))):
            sku, _off = self._pick_sku(day)
            st = cat.styles[cat.sku_style[sku]]
            if r.random() < 0.4:
                steps.append(("page_view", w.category_paths[st.category], None, None))
            steps.append(("product_view", w.product_paths[st.index], sku, None))
            if r.random() < 0.15:
                steps.append(("add_to_cart", w.product_paths[st.index], sku, None))
        return steps

    def _browse(self) -> None:
        p, r, season = self.p, self.r, self.w.season
        factor = {"online": 1.0, "omni": 0.8, "store": 0.3}[p.channel]
        n = poisson(PROFILE_RATES[p.profile][1] * factor * r.lognormvariate(0, 0.4) * self._active_fraction(), r)
        for _ in range(n):
            day = season.pick_day(season.browse_cum, p.active_from, p.active_until, r)
            account = self.account_t is not None and self.account_t <= day * DAY
            self._web_session(day, self._browse_steps(day, account))

    def _newsletter(self) -> None:
        p, r = self.p, self.r
        if p.channel == "store" or r.random() > 0.22:
            return
        t = self._random_time(p.active_from, p.active_until)
        email = maybe_shouty(p.system_email["newsletter"], r, 0.05)
        steps = [("page_view", "/newsletter", None, None), ("identify", "/newsletter", None, email)]
        _, cookie = self._web_session(t // DAY, steps, t0=t)
        self._consent(t + 5, "email", "marketing", "granted", "web", email=email, anonymous_id=cookie.anonymous_id)

    # --------------------------------------------------------------------------------- app
    def _device(self, day: int) -> Device | None:
        devices = [d for d in self.p.devices if d.from_day <= day]
        if not devices:
            return None
        shared = [d for d in devices if d.shared]
        if shared and self.r.random() < 0.35:
            return shared[0]
        own = [d for d in devices if not d.shared]
        return own[-1] if own else devices[0]

    def _app_version(self, day: int) -> str:
        lag = rint(self.r, 0, 40)
        version = APP_RELEASES[0][1]
        for release_day, v in APP_RELEASES:
            if release_day * self.n_days // 365 <= day - lag:
                version = v
        return version

    def _app_session(self, day: int, skus: list[int], add: list[int], t0: int | None = None) -> int | None:
        p, r, clock = self.p, self.r, self.clock
        device = self._device(day)
        if device is None:
            return None
        if t0 is None:
            hour = self.w.season.pick_hour(self.w.season.online_hours, r)
            t0 = day * DAY + hour * HOUR + below(r, HOUR) - clock.uk_offset(day * DAY + 12 * HOUR)
        t = t0
        account = self.account_t is not None and self.account_t <= t0
        late = r.random() < 0.02
        delay = rint(r, 1, 5) * DAY + below(r, DAY) if late else 0
        version = self._app_version(day)
        events: list[tuple[str, int | None]] = [("app_open", None)]
        logged = self.app_logged.get(device.device_id, False) and not device.shared
        if account and not logged and r.random() < 0.85:
            events.append(("login", None))
        events += [("product_view", s) for s in skus]
        events += [("add_to_cart", s) for s in add]
        if r.random() < 0.05:
            events.append(("logout", None))
        user_id = p.shop_customer_id if logged else None
        for name, sku in events:
            if name == "login":
                user_id = p.shop_customer_id
                self.app_logged[device.device_id] = True
                if not self.app_consent and r.random() < 0.6:
                    self.app_consent = True
                    self._consent(
                        t + 2,
                        "push",
                        "marketing" if r.random() < 0.6 else "personalisation",
                        "granted" if r.random() < 0.7 else "withdrawn",
                        "app",
                        shop_customer_id=p.shop_customer_id,
                    )
            received = t + delay + rint(r, 0, 8)
            row = {
                "event_id": uuid_like(r),
                "event_name": name,
                "device_id": device.device_id,
                "user_id": user_id,
                "occurred_at": clock.iso_ms_z(t, below(r, 1000)),
                "received_at": clock.iso_ms_z(received, below(r, 1000)),
                "platform": device.platform,
                "app_version": version,
                "sku": self._sku_text(sku) if sku is not None else None,
            }
            self.sink.add(ent.APP_EVENTS, received // DAY, received, row)
            if name == "logout":
                user_id = None
                self.app_logged[device.device_id] = False
            t += rint(r, 3, 60)
        self.last_activity = max(self.last_activity, t // DAY)
        return t if user_id else None

    def _app(self) -> None:
        p, r, season = self.p, self.r, self.w.season
        if not p.app_user:
            return
        n = poisson(PROFILE_RATES[p.profile][2] * r.lognormvariate(0, 0.4) * self._active_fraction(), r)
        for _ in range(n):
            day = season.pick_day(season.browse_cum, p.active_from, p.active_until, r)
            views = [self._pick_sku(day)[0] for _ in range(min(6, int(r.expovariate(0.5))))]
            add = [s for s in views if r.random() < 0.15]
            self._app_session(day, views, add)

    # ------------------------------------------------------------------------------ accounts
    def _create_account(self, t: int) -> None:
        p, r = self.p, self.r
        self.account_t = t
        email = p.system_email["shop"] or p.email
        self.account_email = maybe_shouty(email, r, 0.03) or email
        self.account_phone = typed_phone(p.phone_national, r) if r.random() < 0.45 else None
        if self.account_phone and r.random() < 0.03:
            self.account_phone = junk_phone(r)
        self.account_marketing = r.random() < 0.55
        self.account_names = (name_as_typed(self._first_name("shop"), r, 0.15), name_as_typed(p.last_name, r, 0.12))
        self._emit_customer(t, t if t >= 0 else t + rint(r, 0, 300) * DAY)
        if r.random() < 0.5:
            self._consent(
                t + 30,
                "email",
                "marketing",
                "granted" if self.account_marketing else "withdrawn",
                "web",
                email=self.account_email,
                shop_customer_id=p.shop_customer_id,
            )

    def _first_name(self, system: str) -> str:
        p = self.p
        if self.nickname_system == system:
            return p.nicknames[0]
        return p.first_name

    def _emit_customer(self, created: int, updated: int) -> None:
        p = self.p
        updated = min(updated, -60) if created < 0 else updated
        row = {
            "shop_customer_id": p.shop_customer_id,
            "email": self.account_email,
            "first_name": self.account_names[0],
            "last_name": self.account_names[1],
            "phone": self.account_phone,
            "accepts_marketing": self.account_marketing,
            "created_at": self._uk(created),
            "updated_at": self._uk(updated),
        }
        self.sink.add(ent.SHOP_CUSTOMERS, updated // DAY, updated, row)

    def _shop_updates(self) -> None:
        p, r = self.p, self.r
        if self.account_t is None or r.random() > 0.12:
            return
        first = max(p.active_from, self.account_t // DAY + 1, 0)
        if first > p.active_until:
            return
        t = self._random_time(first, p.active_until)
        if self.account_phone is None:
            self.account_phone = typed_phone(p.phone_national, r)
        else:
            self.account_marketing = not self.account_marketing
            self._consent(
                t + 3,
                "email",
                "marketing",
                "granted" if self.account_marketing else "withdrawn",
                "web",
                email=self.account_email,
                shop_customer_id=p.shop_customer_id,
            )
        self._emit_customer(self.account_t, t)

    def _enrol(self, t: int, via_pos: bool) -> None:
        p, r = self.p, self.r
        self.loyalty_t = t
        if t < 0:
            self.opening_points = rint(r, 0, 1400)
            self.points = self.opening_points
        self.member_updates.append(t)
        if t >= 0 and r.random() < 0.6:
            email = p.system_email["loyalty"]
            self._consent(
                t + 20,
                "email",
                "marketing",
                "granted" if r.random() < 0.7 else "withdrawn",
                "pos" if via_pos else "loyalty",
                loyalty_number=p.loyalty_number,
                email=email if not via_pos else None,
            )

    def _crm(self) -> None:
        p, r = self.p, self.r
        if not p.in_crm:
            return
        if p.existing and r.random() < 0.9:
            created = self._past_time(40, 3500)
        else:
            known = [t for t in (self.account_t, self.loyalty_t) if t is not None and t >= 0]
            created = min(known) + rint(r, 600, 2 * DAY) if known else self._random_time(p.active_from, p.active_until)
        if created >= self.n_days * DAY:
            return
        email = p.system_email["crm"]
        x = r.random()
        if x < 0.02:
            email = junk_email(r)
        elif x < 0.1:
            email = None
        else:
            email = maybe_shouty(email, r, 0.02)
        tel = phone(p.phone_national, 2) if r.random() < 0.7 else typed_phone(p.phone_national, r)
        y = r.random()
        if y < 0.02:
            tel = junk_phone(r)
        elif y < 0.2:
            tel = None
        dob = None
        if r.random() < 0.65:
            d = p.dob
            dob = (d.replace(month=d.day, day=d.month) if d.day <= 12 and r.random() < 0.03 else d).isoformat()
        email_opt = r.random() < 0.5
        sms_opt = r.random() < 0.25
        row = {
            "crm_id": p.crm_id,
            "first_name": name_as_typed(p.first_name, r, 0.05),
            "last_name": name_as_typed(p.last_name, r, 0.05),
            "email": email,
            "phone": tel,
            "address_line1": p.address_on(created // DAY)[0],
            "city": p.city,
            "postcode": p.address_on(created // DAY)[1],
            "country": "GB",
            "date_of_birth": dob,
            "email_opt_in": "1" if email_opt else "0",
            "sms_opt_in": "1" if sms_opt else "0",
            "created_at": self.clock.iso_naive(created),
            "updated_at": self.clock.iso_naive(
                created if created >= 0 else min(-60, created + rint(r, 0, -created // DAY) * DAY // 2)
            ),
        }
        self.sink.add(ent.CRM_CONTACTS, max(0, created // DAY), max(created, 0), dict(row))
        if r.random() < 0.6 and created >= 0:
            self._consent(
                created + 10,
                "email",
                "marketing",
                "granted" if email_opt else "withdrawn",
                "crm",
                crm_id=p.crm_id,
                email=email,
            )
        if sms_opt and created >= 0 and r.random() < 0.5:
            self._consent(created + 12, "sms", "marketing", "granted", "crm", crm_id=p.crm_id, phone=tel)
        start = max(0, created // DAY + 1, p.active_from)
        if p.move_day is not None and p.move_day >= start and row["postcode"] != p.new_postcode:
            t = p.move_day * DAY + rint(r, DAY, 20 * DAY)
            row["address_line1"] = p.new_address
            row["postcode"] = p.new_postcode
            row["updated_at"] = self.clock.iso_naive(t)
            self.sink.add(ent.CRM_CONTACTS, t // DAY, t, dict(row))
        if r.random() < 0.15 and start <= p.active_until:
            t = self._random_time(start, p.active_until)
            if row["phone"] is None:
                row["phone"] = phone(p.phone_national, 2)
            else:
                row["email_opt_in"] = "0" if row["email_opt_in"] == "1" else "1"
                self._consent(
                    t + 7,
                    "email",
                    "marketing",
                    "granted" if row["email_opt_in"] == "1" else "withdrawn",
                    "crm",
                    crm_id=p.crm_id,
                    email=row["email"],
                )
            row["updated_at"] = self.clock.iso_naive(t)
            self.sink.add(ent.CRM_CONTACTS, t // DAY, t, dict(row))

    # --------------------------------------------------------------------------------- orders
    def _online_order(self, day: int) -> None:
        p, r = self.p, self.r
        items = self._basket(day)
        if not items:
            return
        hour = self.w.season.pick_hour(self.w.season.online_hours, r)
        t0 = day * DAY + hour * HOUR + below(r, HOUR) - self.clock.uk_offset(day * DAY + 12 * HOUR)
        if p.has_account and self.account_t is None:
            self._create_account(t0 + rint(r, 30, 400))
        account = self.account_t is not None and self.account_t <= t0 + 400 and r.random() < 0.9
        if account and p.app_user and r.random() < 0.35:
            views = [s for s, _, _ in items]
            t_end = self._app_session(day, views, views, t0=t0)
            if t_end is not None:
                self._order(t_end + rint(r, 20, 90), items, None, True)
                return
        steps: list[Step] = [("page_view", "/", None, None)]
        cat = self.w.catalog
        for sku, _, _ in items:
            path = self.w.product_paths[cat.sku_style[sku]]
            steps.append(("product_view", path, sku, None))
            if r.random() < 0.3:
                extra, _off = self._pick_sku(day)
                steps.append(("product_view", self.w.product_paths[cat.sku_style[extra]], extra, None))
            steps.append(("add_to_cart", path, sku, None))
        if account:
            steps.append(("login", "/account/login", None, None))
        steps.append(("page_view", "/cart", None, None))
        steps.append(("checkout", "/checkout", None, None))
        email = self.account_email if account else self._guest_email()
        if not account or r.random() < 0.5:
            steps.append(("identify", "/checkout", None, email))
        t_end, cookie = self._web_session(day, steps, t0=t0)
        self._order(t_end + rint(r, 20, 90), items, cookie.anonymous_id, account, email)

    def _guest_email(self) -> str:
        r = self.r
        if r.random() < 0.005:
            return "test@test.com"
        email = self.p.system_email["guest"] or self.p.email
        return maybe_shouty(email, r, 0.05) or email

    def _order(
        self,
        t: int,
        items: list[tuple[int, int, bool]],
        anonymous_id: str | None,
        account: bool,
        email: str | None = None,
    ) -> None:
        p, r, sink = self.p, self.r, self.sink
        k = p.next_id("order")
        order_id = f"SO{scramble(p.index << 12 | k, 44, 0x0D3):014d}"
        day = t // DAY
        promo = r.random() < 0.15
        lines = []
        subtotal = discount = 0
        for sku, qty, off in items:
            list_price, unit = self._price(sku, day)
            line_discount = unit * qty // 10 if promo else 0
            subtotal += unit * qty
            discount += line_discount
            lid = f"OL{scramble(p.index << 16 | p.next_id('order_line'), 48, 0x11E):015d}"
            lines.append((lid, sku, qty, list_price, unit, line_discount, off))
            self.w.inventory.sell(self.w.catalog.web_location, sku, day, qty)
        shipping = 0 if subtotal - discount >= 5000 else 395
        total = subtotal - discount + shipping
        method = r.choices(("card", "paypal", "gift_card"), (0.75, 0.2, 0.05))[0]
        postcode = p.address_on(day)[1]
        city = p.city
        if r.random() < 0.05:
            postcode = f"{r.choice(('SW', 'M', 'B', 'LS', 'G'))}{rint(r, 1, 20)} {rint(r, 1, 9)}AB"
            city = None
        if account:
            email = self.account_email
            tel = self.account_phone if r.random() < 0.8 else None
        else:
            email = email or self._guest_email()
            tel = typed_phone(p.phone_national, r) if r.random() < 0.55 else None
        base = {
            "order_id": order_id,
            "shop_customer_id": p.shop_customer_id if account else None,
            "email": email,
            "phone": tel,
            "anonymous_id": anonymous_id,
            "status": "placed",
            "currency": "GBP",
            "subtotal_amount": money(subtotal),
            "discount_amount": money(discount),
            "shipping_amount": money(shipping),
            "total_amount": money(total),
            "payment_method": method,
            "shipping_postcode": postcode,
            "shipping_city": city,
            "ordered_at": self._uk(t),
            "updated_at": self._uk(t),
        }
        versions = [(t, "placed")]
        cancelled = r.random() < 0.03
        if cancelled:
            versions.append((t + rint(r, HOUR, 10 * HOUR), "cancelled"))
        else:
            shipped = t + rint(r, 18 * HOUR, 50 * HOUR)
            versions.append((shipped, "shipped"))
            versions.append((shipped + rint(r, 20 * HOUR, 80 * HOUR), "delivered"))
        for vt, status in versions:
            row = dict(base)
            row["status"] = status
            row["updated_at"] = self._uk(vt)
            sink.add(ent.SHOP_ORDERS, vt // DAY, vt, row)
            for lid, sku, qty, list_price, unit, line_discount, _off in lines:
                sink.add(
                    ent.SHOP_ORDER_LINES,
                    vt // DAY,
                    vt,
                    {
                        "order_line_id": lid,
                        "order_id": order_id,
                        "sku": self._sku_text(sku),
                        "quantity": qty,
                        "unit_list_price": money(list_price),
                        "unit_price": money(unit),
                        "discount_amount": money(line_discount),
                        "updated_at": row["updated_at"],
                    },
                )
        card = self._card(0.75) if method == "card" else None
        payment = self._payment(t + rint(r, 2, 20), "order", order_id, method, card, total)
        if cancelled:
            self._payment_update(payment, versions[-1][0], "refunded")
        if cancelled:
            return
        if self.loyalty_t is not None and self.loyalty_t <= t and self.loyalty_online:
            self._earn(versions[-1][0], total // 100, order_id)
        delivered = versions[-1][0]
        if r.random() < 0.1:
            self._ticket(versions[1][0] + rint(r, HOUR, 4 * DAY), "delivery", order_id)
        refunded = False
        for _lid, sku, qty, _list_price, unit, line_discount, off in lines:
            rate = min(0.9, p.return_rate * 1.3 + (0.3 if off else 0.0))
            if r.random() < rate:
                rt = delivered + rint(r, 2 * DAY, 25 * DAY)
                in_store = p.channel != "online" and r.random() < 0.3
                store = self.w.catalog.stores[p.home_store].store_id if in_store else None
                method_r = self._return(rt, "order", order_id, sku, qty, unit * qty - line_discount, off, store)
                if method_r == "original_payment" and not refunded:
                    refunded = True
                    self._payment_update(payment, rt + rint(r, HOUR, 3 * DAY), "refunded")

    def _card(self, primary: float) -> tuple[str, str, str]:
        cards = self.p.cards
        if len(cards) == 1 or self.r.random() < primary:
            return cards[0]
        return self.r.choice(cards[1:])

    def _payment(
        self, t: int, ref_type: str, ref_id: str, method: str, card: tuple[str, str, str] | None, amount: int
    ) -> dict[str, object]:
        r = self.r
        if ref_type == "order" and method != "gift_card" and r.random() < 0.02:
            failed = self._payment_row(t - rint(r, 30, 300), ref_type, ref_id, method, card, amount, "failed")
            self.sink.add(ent.PAYMENTS, (t - 300) // DAY, t - 300, failed)
        row = self._payment_row(t, ref_type, ref_id, method, card, amount, "captured")
        self.sink.add(ent.PAYMENTS, t // DAY, t, row)
        return row

    def _payment_row(
        self,
        t: int,
        ref_type: str,
        ref_id: str,
        method: str,
        card: tuple[str, str, str] | None,
        amount: int,
        status: str,
    ) -> dict[str, object]:
        p = self.p
        pid = f"pay_{scramble(p.index << 12 | p.next_id('payment'), 48, 0x9A7):015d}"
        return {
            "payment_id": pid,
            "reference_type": ref_type,
            "reference_id": ref_id,
            "payment_method": method,
            "card_token": card[0] if card else None,
            "card_brand": card[1] if card else None,
            "card_last4": card[2] if card else None,
            "amount": money(amount),
            "currency": "GBP",
            "status": status,
            "processed_at": self.clock.iso_z(t),
            "updated_at": self.clock.iso_z(t),
        }

    def _payment_update(self, payment: dict[str, object], t: int, status: str) -> None:
        row = dict(payment)
        row["status"] = status
        row["updated_at"] = self.clock.iso_z(t)
        self.sink.add(ent.PAYMENTS, t // DAY, t, row)

    def _return(
        self, t: int, ref_type: str, ref_id: str, sku: int, qty: int, amount: int, off: bool, store: str | None
    ) -> str:
        p, r = self.p, self.r
        k = p.next_id("return")
        sized = off or r.random() < 0.4
        reason = r.choice(("too_small", "too_large")) if sized else r.choice(RETURN_REASONS)
        method = (
            p.refund_method
            if r.random() < 0.8
            else r.choice(("original_payment", "store_credit", "exchange", "gift_card"))
        )
        row = {
            "return_id": f"RT{scramble(p.index << 12 | k, 44, 0x7E7):014d}",
            "reference_type": ref_type,
            "reference_id": ref_id,
            "sku": self._sku_text(sku),
            "quantity": qty,
            "reason": reason if r.random() > 0.05 else None,
            "refund_method": method,
            "refund_amount": money(amount),
            "store_id": store,
            "returned_at": self._uk(t),
            "updated_at": self.clock.iso_z(t),
        }
        self.sink.add(ent.RETURNS, t // DAY, t, row)
        if r.random() < 0.3:
            t2 = t + rint(r, HOUR, 5 * DAY)
            row = dict(row)
            row["updated_at"] = self.clock.iso_z(t2)
            self.sink.add(ent.RETURNS, t2 // DAY, t2, row)
        if r.random() < (0.15 if ref_type == "order" else 0.05):
            self._ticket(t + rint(r, 3 * DAY, 12 * DAY), "returns", ref_id)
        return method

    # ----------------------------------------------------------------------------------- store
    def _store_visit(self, day: int) -> None:
        p, r, w = self.p, self.r, self.w
        stores = w.catalog.stores
        store = stores[p.home_store] if r.random() < 0.85 or len(stores) == 1 else r.choice(stores)
        hour = w.season.pick_hour(w.season.store_hour_cum(day), r)
        offset = self.clock.uk_offset(day * DAY + 12 * HOUR)
        t = day * DAY + hour * HOUR + below(r, HOUR) - offset
        qr_sku = None
        if p.channel == "omni" and r.random() < 0.18:
            qr_sku, _off = self._pick_sku(day)
            viewed = max(0, day - rint(r, 1, 4))
            page = w.product_paths[w.catalog.sku_style[qr_sku]]
            self._web_session(viewed, [("page_view", "/", None, None), ("product_view", page, qr_sku, None)])
            self._qr_scan(t - rint(r, 120, 1200), store.store_id, qr_sku)
        if p.is_member and self.loyalty_t is None:
            self._enrol(t - rint(r, 60, 240), via_pos=True)
            scanned = True
        else:
            scanned = self.loyalty_t is not None and self.loyalty_t <= t and r.random() < 0.72
        self._pos_transaction(t, offset, day, store, self._basket(day, qr_sku), scanned)

    def _pos_transaction(self, t: int, offset: int, day: int, store, items, scanned: bool) -> None:
        p, r, clock, sink = self.p, self.r, self.clock, self.sink
        k = p.next_id("pos")
        txn = f"T{scramble(p.index << 12 | k, 44, 0x905):014d}"
        x = r.random()
        if (p.cash_lover and x < 0.7) or x < 0.06:
            method, card = "cash", None
        elif x > 0.96:
            method, card = "gift_card", None
        else:
            method, card = "card", self._card(0.7)
        multibuy = r.random() < 0.05
        total = discount = 0
        line_rows = []
        for n, (sku, qty, _off) in enumerate(items, start=1):
            list_price, unit = self._price(sku, day)
            line_discount = unit * qty // 10 if multibuy else 0
            total += unit * qty - line_discount
            discount += line_discount
            line_rows.append(
                {
                    "transaction_id": txn,
                    "line_number": n,
                    "sku": self._sku_text(sku),
                    "quantity": qty,
                    "unit_list_price": money(list_price),
                    "unit_price": money(unit),
                    "discount_amount": money(line_discount) if line_discount else None,
                }
            )
            self.w.inventory.sell(store.index, sku, day, qty)
        redeem = scanned and self.points >= 500 and r.random() < 0.35 and total > 800
        if redeem:
            total -= 500
            discount += 500
        loyalty_text = None
        if scanned:
            loyalty_text = p.loyalty_number
            if r.random() < 0.02:
                n = p.loyalty_number
                loyalty_text = f"{n[:4]} {n[4:8]} {n[8:12]} {n[12:]}"
        row = {
            "transaction_id": txn,
            "store_id": store.store_id,
            "register_id": f"R{rint(r, 1, 6):02d}",
            "business_date": clock.day_text(day),
            "transaction_time": clock.iso_local(t, offset),
            "loyalty_number": loyalty_text,
            "card_token": card[0] if card else None,
            "payment_method": method,
            "total_amount": money(total),
            "discount_amount": money(discount),
            "currency": "GBP",
        }
        sink.add(ent.POS_TRANSACTIONS, day, t, row, store.store_id)
        for line in line_rows:
            sink.add(ent.POS_TRANSACTION_LINES, day, t, line, store.store_id)
        self._payment(t + rint(r, 1, 30), "pos_transaction", txn, method, card, total)
        self.last_activity = max(self.last_activity, day)
        if redeem:
            self._ledger(t + 1, "redeem", -500, txn)
            self.points -= 500
        if scanned:
            self._earn(t + 2, total // 100, txn)
        elif self.loyalty_t is not None and self.loyalty_t <= t and r.random() < 0.05:
            self._ledger(t + rint(r, DAY, 10 * DAY), "adjust", total // 100, txn)
        for sku, qty, off in items:
            if r.random() < min(0.9, p.return_rate * 0.8 + (0.3 if off else 0.0)):
                list_price, unit = self._price(sku, day)
                rt = t + rint(r, DAY, 20 * DAY)
                self._return(rt, "pos_transaction", txn, sku, qty, unit * qty, off, store.store_id)
                if scanned and unit * qty // 100:
                    self._ledger(rt + 60, "adjust", -(unit * qty // 100), txn)

    def _qr_scan(self, t: int, store_id: str, sku: int | None) -> None:
        p, r = self.p, self.r
        cookie = self._cookie(t // DAY, "mobile")
        member = self.loyalty_t is not None and self.loyalty_t <= t
        row = {
            "scan_id": uuid_like(r),
            "anonymous_id": cookie.anonymous_id,
            "loyalty_number": p.loyalty_number if member and r.random() < 0.6 else None,
            "store_id": store_id,
            "qr_campaign": r.choice(QR_CAMPAIGNS),
            "sku": self._sku_text(sku) if sku is not None else None,
            "scanned_at": self.clock.iso_z(t),
        }
        self.sink.add(ent.QR_SCANS, t // DAY, t, row)

    def _standalone_qr(self) -> None:
        p, r, w = self.p, self.r, self.w
        if p.channel == "online" or p.profile == "browser":
            return
        for _ in range(poisson(0.25 * self._active_fraction(), r)):
            day = w.season.pick_day(w.season.store_cum, p.active_from, p.active_until, r)
            hour = w.season.pick_hour(w.season.store_hour_cum(day), r)
            t = day * DAY + hour * HOUR + below(r, HOUR) - self.clock.uk_offset(day * DAY + 12 * HOUR)
            sku = self._pick_sku(day)[0] if r.random() < 0.85 else None
            self._qr_scan(t, w.catalog.stores[p.home_store].store_id, sku)

    # --------------------------------------------------------------------------------- loyalty
    def _ledger(self, t: int, entry_type: str, points: int, ref: str | None) -> None:
        self.ledger.append((t, entry_type, points, ref))

    def _earn(self, t: int, points: int, ref: str) -> None:
        if points > 0:
            self.ledger.append((t, "earn", points, ref))
            self.points += points

    def _loyalty_finish(self) -> None:
        p, r, clock, sink = self.p, self.r, self.clock, self.sink
        if self.loyalty_t is None:
            return
        enrolled = self.loyalty_t
        # birthday bonus and expiry of lapsed members' points
        for year in range(clock.start.year, clock.end.year + 1):
            try:
                bday = p.dob.replace(year=year)
            except ValueError:
                bday = p.dob.replace(year=year, day=28)
            t = clock.day_from_date(bday) * DAY + 7 * HOUR
            if max(enrolled, 0) <= t < self.n_days * DAY and r.random() < 0.8:
                self.ledger.append((t, "adjust", 50, None))
        if p.profile == "churner":
            t = (self.last_activity + 180) * DAY + 2 * HOUR
            if t < self.n_days * DAY:
                self.ledger.append((t, "expire", 0, None))
        first_update = max(p.active_from, enrolled // DAY + 1)
        if r.random() < 0.05 and first_update <= p.active_until:
            self.member_updates.append(self._random_time(first_update, p.active_until))
        self.ledger.sort(key=lambda e: e[0])
        balance = self.opening_points
        status = self.opening_points
        tier = _tier(status)
        versions = sorted(set(self.member_updates))
        states: list[tuple[int, str, int]] = []
        vi = 0
        for t, entry_type, points, ref in self.ledger:
            while vi < len(versions) and versions[vi] <= t:
                states.append((versions[vi], tier, balance))
                vi += 1
            if entry_type == "expire":
                points = -balance
            elif points < 0:
                points = -min(-points, balance)
            if points == 0:
                continue
            balance += points
            if points > 0:
                status += points
            k = p.next_id("ledger")
            sink.add(
                ent.POINTS_LEDGER,
                t // DAY,
                t,
                {
                    "ledger_entry_id": f"L{scramble(p.index << 12 | k, 44, 0x1ED):014d}",
                    "loyalty_number": p.loyalty_number,
                    "entry_type": entry_type,
                    "points": points,
                    "reference_id": ref,
                    "created_at": clock.iso_z(t),
                },
            )
            new_tier = _tier(status)
            if new_tier != tier:
                tier = new_tier
                states.append((t + 60, tier, balance))
        while vi < len(versions):
            states.append((versions[vi], tier, balance))
            vi += 1
        email = p.system_email["loyalty"]
        x = r.random()
        if x < 0.05:
            email = junk_email(r)
        elif x < 0.15:
            email = None
        tel = typed_phone(p.phone_national, r)
        y = r.random()
        if y < 0.03:
            tel = junk_phone(r)
        elif y < 0.13:
            tel = None
        dob = None
        if r.random() < 0.7:
            d = p.dob
            dob = (d.replace(month=d.day, day=d.month) if d.day <= 12 and r.random() < 0.03 else d).isoformat()
        first = name_as_typed(self._first_name("loyalty"), r, 0.2)
        last = name_as_typed(p.last_name, r, 0.2)
        postcode = postcode_as_typed(p.address_on(max(0, enrolled // DAY))[1] if enrolled >= 0 else p.postcode, r)
        for i, (t, tier_now, bal) in enumerate(states):
            if i > 0 and email is None and r.random() < 0.3:
                email = p.system_email["loyalty"]
            updated = t if t >= 0 else min(-60, t + rint(r, 0, 100) * DAY)
            sink.add(
                ent.LOYALTY_MEMBERS,
                max(0, t // DAY),
                max(t, -1),
                {
                    "loyalty_number": p.loyalty_number,
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "phone": tel,
                    "postcode": postcode,
                    "date_of_birth": dob,
                    "tier": tier_now,
                    "points_balance": bal,
                    "home_store_id": self.w.catalog.stores[p.home_store].store_id,
                    "enrolled_at": clock.iso_z(enrolled),
                    "updated_at": clock.iso_z(updated),
                },
            )

    # ---------------------------------------------------------------------------- helpdesk
    def _random_tickets(self) -> None:
        p, r = self.p, self.r
        if p.profile == "browser" and r.random() < 0.7:
            return
        for _ in range(poisson(0.15 * self._active_fraction(), r)):
            t = self._random_time(p.active_from, p.active_until)
            self._ticket(t, r.choice(("product", "billing", "account")), None)

    def _ticket(self, t: int, topic: str, order_id: str | None) -> None:
        p, r, clock = self.p, self.r, self.clock
        if t >= self.n_days * DAY:
            return
        k = p.next_id("ticket")
        channel = r.choices(("email", "phone", "chat"), (0.5, 0.25, 0.25))[0]
        email = maybe_shouty(p.system_email["helpdesk"], r, 0.05)
        name = f"{self._first_name('helpdesk')} {p.last_name}"
        tel = None
        if channel == "email":
            name = name_as_typed(name, r, 0.15) if r.random() < 0.8 else None
        elif channel == "phone":
            tel = phone(p.phone_national, r.choice((1, 3))) if r.random() < 0.85 else typed_phone(p.phone_national, r)
            email = email if r.random() < 0.25 else None
            name = name if r.random() < 0.7 else self._first_name("helpdesk")
        else:
            email = email if r.random() < 0.7 else None
            name = name_as_typed(self._first_name("helpdesk"), r, 0.4)
            if email is None and r.random() < 0.5:
                tel = typed_phone(p.phone_national, r)
        if email is None and tel is None and r.random() < 0.5:
            email = p.system_email["helpdesk"]
        subject = r.choice(TICKET_SUBJECTS[topic]).format(ref=order_id or "")
        row = {
            "ticket_id": str(10**12 + scramble(p.index << 8 | k, 40, 0x7C4)),
            "channel": channel,
            "requester_email": email,
            "requester_phone": tel,
            "requester_name": name,
            "topic": topic,
            "subject": subject.replace("  ", " ").strip(),
            "status": "open",
            "satisfaction_score": None,
            "order_reference": order_id,
            "created_at": clock.iso_z(t),
            "updated_at": clock.iso_z(t),
        }
        self.sink.add(ent.TICKETS, t // DAY, t, dict(row))
        t2 = t
        if r.random() < 0.6:
            t2 = t + rint(r, HOUR, 20 * HOUR)
            row["status"] = "pending"
            row["updated_at"] = clock.iso_z(t2)
            self.sink.add(ent.TICKETS, t2 // DAY, t2, dict(row))
        if r.random() < 0.95:
            t3 = t2 + rint(r, 2 * HOUR, 5 * DAY)
            row["status"] = "solved"
            row["updated_at"] = clock.iso_z(t3)
            if r.random() < 0.45:
                row["satisfaction_score"] = r.choices((1, 2, 3, 4, 5), (0.08, 0.07, 0.15, 0.3, 0.4))[0]
            self.sink.add(ent.TICKETS, t3 // DAY, t3, dict(row))
        if topic == "account" and "Unsubscribe" in subject:
            self._consent(
                t2 + 60, "email" if email else "phone", "marketing", "withdrawn", "helpdesk", email=email, phone=tel
            )

    # ---------------------------------------------------------------------------------- consent
    def _consent(
        self,
        t: int,
        channel: str,
        purpose: str,
        status: str,
        source: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        crm_id: str | None = None,
        loyalty_number: str | None = None,
        shop_customer_id: str | None = None,
        anonymous_id: str | None = None,
        again: bool = True,
    ) -> None:
        r = self.r
        row = {
            "consent_event_id": uuid_like(r),
            "email": email,
            "phone": phone,
            "crm_id": crm_id,
            "loyalty_number": loyalty_number,
            "shop_customer_id": shop_customer_id,
            "anonymous_id": anonymous_id,
            "channel": channel,
            "purpose": purpose,
            "status": status,
            "source_system": source,
            "occurred_at": self.clock.iso_ms_z(t, below(r, 1000)),
        }
        self.sink.add(ent.CONSENT, t // DAY, t, row)
        if again and status == "granted" and purpose == "marketing" and r.random() < 0.08:
            t2 = t + rint(r, 5 * DAY, 120 * DAY)
            self._consent(
                t2,
                channel,
                purpose,
                "withdrawn",
                source,
                email=email,
                phone=phone,
                crm_id=crm_id,
                loyalty_number=loyalty_number,
                shop_customer_id=shop_customer_id,
                anonymous_id=anonymous_id,
                again=False,
            )


def _tier(status_points: int) -> str:
    for name, threshold in TIERS:
        if status_points >= threshold:
            return name
    return "bronze"
