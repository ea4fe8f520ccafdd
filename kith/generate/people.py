"""True persons and households: who they are, which identifiers they own, how they behave."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from random import Random

from kith.generate.calendar import Clock
from kith.generate.catalog import BRANDS, CATEGORIES, Catalog
from kith.generate.ids import Permutation, base62, hex_id, rint, scramble, uuid_like
from kith.generate.noise import email_local, gmail_variant, slug, typo
from kith.generate.vocab import (
    DESKTOP_UA,
    EMAIL_DOMAINS,
    FEMALE_NAMES,
    ISP_OCTETS,
    MALE_NAMES,
    MOBILE_UA,
    STREET_TYPES,
    STREETS,
    SURNAMES,
    TABLET_UA,
    WORK_DOMAINS,
)
from kith.generate.writers import csv_line

HOUSEHOLD_BLOCK = 50
PROFILES = (
    ("frequent", 0.10),
    ("regular", 0.28),
    ("one_off", 0.20),
    ("churner", 0.12),
    ("new", 0.10),
    ("browser", 0.20),
)
# purchases per active year, browse sessions per active year, app sessions per active year
PROFILE_RATES = {
    "frequent": (17.0, 24.0, 24.0),
    "regular": (5.5, 10.0, 10.0),
    "one_off": (1.0, 3.0, 2.5),
    "churner": (6.0, 11.0, 10.0),
    "new": (5.0, 12.0, 12.0),
    "browser": (0.0, 15.0, 8.0),
}
_DOMAIN_NAMES = [d for d, _ in EMAIL_DOMAINS]
_DOMAIN_CUM = list(accumulate(w for _, w in EMAIL_DOMAINS))
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_CARD_BRANDS = (("visa", 0.6), ("mastercard", 0.32), ("amex", 0.08))


@dataclass(slots=True)
class Household:
    household_id: str
    members: tuple[int, ...]
    surname: str | None
    store: int
    postcode: str
    address: str
    city: str
    ip: str
    family_email: str | None
    tablet_device: tuple[str, str] | None  # (device_id, platform) of a shared family tablet
    tablet_cookie: str | None


@dataclass(slots=True)
class Cookie:
    anonymous_id: str
    device_type: str
    user_agent: str
    from_day: int


@dataclass(slots=True)
class Device:
    device_id: str
    platform: str
    from_day: int
    shared: bool


@dataclass(slots=True)
class Person:
    index: int
    person_id: str
    rng: Random
    profile: str
    channel: str  # "online", "store", "omni"
    online_share: float
    existing: bool
    active_from: int
    active_until: int
    gender: str
    first_name: str
    nicknames: tuple[str, ...]
    last_name: str
    dob: date
    household: Household
    postcode: str
    address: str
    city: str
    home_store: int
    move_day: int | None
    new_postcode: str | None
    new_address: str | None
    offset_std: int  # the visitor's standard time offset (seconds east of UTC)
    email: str
    email_second: str | None
    phone_national: str
    cookies: list[Cookie]
    devices: list[Device]
    app_user: bool
    has_account: bool
    is_member: bool
    in_crm: bool
    shop_customer_id: str
    crm_id: str
    loyalty_number: str
    cards: list[tuple[str, str, str]]
    cash_lover: bool
    returner: bool
    return_rate: float
    refund_method: str
    price_sensitivity: str  # "bargain", "full_price", "neutral"
    favourite_brands: tuple[str, ...]
    style_cum: list[float]
    favourite_category: str
    sizes: dict[str, str]
    system_email: dict[str, str | None] = field(default_factory=dict)
    typo_system: str | None = None
    counters: dict[str, int] = field(default_factory=dict)

    def next_id(self, namespace: str) -> int:
        """The next per-person counter value in namespace (0, 1, ...)."""
        n = self.counters.get(namespace, 0)
        self.counters[namespace] = n + 1
        return n

    def address_on(self, day: int) -> tuple[str, str]:
        if self.move_day is not None and day >= self.move_day:
            return self.new_address or self.address, self.new_postcode or self.postcode
        return self.address, self.postcode


def _postcode(area: str, r: Random) -> str:
    return f"{area}{rint(r, 1, 28)} {rint(r, 1, 9)}{r.choice(_UNIT_LETTERS)}{r.choice(_UNIT_LETTERS)}"


def _street(r: Random) -> str:
    return f"{rint(r, 1, 180)} {r.choice(STREETS)} {r.choice(STREET_TYPES)}"


class Population:
    """Builds persons deterministically from (seed, index), independent of chunking."""

    def __init__(self, seed: int, customers: int, clock: Clock, catalog: Catalog) -> None:
        self.seed = seed
        self.customers = customers
        self.clock = clock
        self.catalog = catalog
        self.n_days = clock.n_days
        self._number = Permutation(customers, 1_000_003, 7_919)
        self._mobile = Permutation(800_000_000, 387_420_489, 12_345_678)
        store_w = [s.weight for s in catalog.stores]
        self._store_cum = list(accumulate(store_w))
        self._block: int = -1
        self._households: dict[int, Household] = {}
        self._style_base = [s.popularity for s in catalog.styles]

    # households -------------------------------------------------------------------------------
    def household_of(self, index: int) -> Household:
        block = index // HOUSEHOLD_BLOCK
        if block != self._block:
            self._households = self._build_block(block)
            self._block = block
        return self._households[index]

    def _build_block(self, block: int) -> dict[int, Household]:
        r = Random(f"{self.seed}:household:{block}")
        first = block * HOUSEHOLD_BLOCK
        last = min(first + HOUSEHOLD_BLOCK, self.customers)
        out: dict[int, Household] = {}
        i = first
        stores = self.catalog.stores
        while i < last:
            size = 1
            if last - i >= 2 and r.random() < 0.07:
                size = min(last - i, r.choice((2, 2, 2, 3, 3, 4)))
            members = tuple(range(i, i + size))
            store = min(len(stores) - 1, bisect_right(self._store_cum, r.random() * self._store_cum[-1]))
            area = r.choice(stores[store].areas)
            surname = r.choice(SURNAMES) if size > 1 and r.random() < 0.8 else None
            family_email = tablet = tablet_cookie = None
            if size > 1 and r.random() < 0.5:
                name = slug(surname or r.choice(SURNAMES))
                domain = r.choice(("btinternet.com", "gmail.com", "hotmail.co.uk", "sky.com", "talktalk.net"))
                pattern = r.choice(("the{}s", "the{}family", "{}family", "{}.household", "{}home"))
                family_email = f"{pattern.format(name)}{self._number(i) + 1}@{domain}"
            if size > 1 and r.random() < 0.22:
                ios = r.random() < 0.6
                tablet = (uuid_like(r).upper() if ios else hex_id(r, 16), "ios" if ios else "android")
                tablet_cookie = uuid_like(r)
            ip = f"{r.choice(ISP_OCTETS)}.{rint(r, 0, 255)}.{rint(r, 0, 255)}.{rint(r, 1, 254)}"
            hh = Household(
                household_id=f"H{i + 1:08d}",
                members=members,
                surname=surname,
                store=store,
                postcode=_postcode(area, r),
                address=_street(r),
                city=stores[store].city,
                ip=ip,
                family_email=family_email,
                tablet_device=tablet,
                tablet_cookie=tablet_cookie,
            )
            for m in members:
                out[m] = hh
            i += size
        return out

    # persons ----------------------------------------------------------------------------------
    def person(self, index: int) -> Person:
        r = Random(f"{self.seed}:{index}")
        n_days = self.n_days
        hh = self.household_of(index)
        profile = r.choices([p for p, _ in PROFILES], [w for _, w in PROFILES])[0]
        channel = "online" if profile == "browser" else r.choices(("online", "store", "omni"), (0.25, 0.35, 0.4))[0]
        online_share = {"online": 1.0, "store": 0.0, "omni": r.uniform(0.2, 0.5)}[channel]
        existing = profile in ("frequent", "regular", "churner") and r.random() < 0.85
        if profile == "new":
            active_from = rint(r, int(n_days * 0.72), max(int(n_days * 0.72), int(n_days * 0.95)))
        elif existing or profile == "churner":
            active_from = 0
        else:
            active_from = rint(r, 0, int(n_days * 0.7))
        active_until = n_days - 1
        if profile == "churner":
            active_until = rint(r, max(active_from, int(n_days * 0.25)), max(active_from, int(n_days * 0.65)))

        gender = "f" if r.random() < 0.7 else "m"
        first, nicknames = r.choice(FEMALE_NAMES if gender == "f" else MALE_NAMES)
        last = hh.surname or r.choice(SURNAMES)
        if hh.surname and index != hh.members[0] and r.random() < 0.1:
            last = f"{hh.surname}-{r.choice(SURNAMES)}"
        age_days = int(365.25 * min(80, max(18, r.gauss(36, 11))))
        dob = self.clock.start - timedelta(days=age_days + rint(r, 0, 364))

        move_day = new_postcode = new_address = None
        if r.random() < 0.05:
            move_day = rint(r, max(active_from, n_days // 8), max(active_from, n_days - 20))
            new_postcode = _postcode(r.choice(self.catalog.stores[hh.store].areas), r)
            new_address = _street(r)

        number = self._number(index) + 1
        domain = _DOMAIN_NAMES[min(len(_DOMAIN_NAMES) - 1, bisect_right(_DOMAIN_CUM, r.random() * _DOMAIN_CUM[-1]))]
        email = f"{email_local(first, last, number, r)}@{domain}"
        email_second = None
        if r.random() < 0.3:
            if r.random() < 0.5:
                email_second = f"{slug(first)}.{slug(last)}{number}@{r.choice(WORK_DOMAINS)}"
            else:
                email_second = f"{slug(first)}_{slug(last)[:1]}{number}@{r.choice(('hotmail.com', 'yahoo.co.uk'))}"
        v = self._mobile(index)
        phone_national = f"7{'12345789'[v // 100_000_000]}{v % 100_000_000:08d}"

        offset_std = 0 if r.random() < 0.93 else r.choice((3600, 3600, 7200))
        cookies = self._cookies(r, hh, n_days)
        app_user = r.random() < {"online": 0.5, "omni": 0.5, "store": 0.22}[channel] * (
            1.15 if profile in ("frequent", "browser") else 0.9
        )
        if hh.tablet_device and r.random() < 0.8:
            app_user = True
        devices = self._devices(r, hh, app_user, n_days)
        has_account = app_user or (
            (channel != "store" and r.random() < (0.3 if profile == "browser" else 0.72))
            or (channel == "store" and r.random() < 0.06)
        )
        member_p = {"online": 0.28, "store": 0.62, "omni": 0.7}[channel]
        if profile in ("frequent", "regular"):
            member_p += 0.1
        if profile == "browser":
            member_p = 0.08
        is_member = r.random() < member_p
        in_crm = r.random() < (0.82 if (has_account or is_member) else 0.45)

        cards = []
        for _ in range(r.choices((1, 2, 3), (0.5, 0.35, 0.15))[0]):
            brand = r.choices([b for b, _ in _CARD_BRANDS], [w for _, w in _CARD_BRANDS])[0]
            cards.append((f"tok_{hex_id(r, 24)}", brand, f"{rint(r, 0, 9999):04d}"))
        returner = r.random() < 0.15
        sensitivity = r.choices(("bargain", "full_price", "neutral"), (0.25, 0.25, 0.5))[0]
        brands, style_cum, fav_cat, sizes = self._tastes(r, gender)

        p = Person(
            index=index,
            person_id=f"P{index + 1:07d}",
            rng=r,
            profile=profile,
            channel=channel,
            online_share=online_share,
            existing=existing,
            active_from=active_from,
            active_until=active_until,
            gender=gender,
            first_name=first,
            nicknames=nicknames,
            last_name=last,
            dob=dob,
            household=hh,
            postcode=hh.postcode,
            address=hh.address,
            city=hh.city,
            home_store=hh.store,
            move_day=move_day,
            new_postcode=new_postcode,
            new_address=new_address,
            offset_std=offset_std,
            email=email,
            email_second=email_second,
            phone_national=phone_national,
            cookies=cookies,
            devices=devices,
            app_user=app_user,
            has_account=has_account,
            is_member=is_member,
            in_crm=in_crm,
            shop_customer_id=str(6_000_000_000_000 + scramble(index << 8, 40, 0x5107)),
            crm_id=f"0035g0000{base62(scramble(index << 8, 48, 0xC4A1), 9)}",
            loyalty_number=f"63{scramble(index << 8, 40, 0x1A7):013d}",
            cards=cards,
            cash_lover=r.random() < 0.15,
            returner=returner,
            return_rate=r.uniform(0.3, 0.5) if returner else r.uniform(0.02, 0.08),
            refund_method=r.choices(
                ("original_payment", "store_credit", "exchange", "gift_card"), (0.55, 0.15, 0.2, 0.1)
            )[0],
            price_sensitivity=sensitivity,
            favourite_brands=brands,
            style_cum=style_cum,
            favourite_category=fav_cat,
            sizes=sizes,
        )
        self._system_emails(p, r)
        return p

    def _cookies(self, r: Random, hh: Household, n_days: int) -> list[Cookie]:
        cookies = [Cookie(uuid_like(r), "mobile", r.choice(MOBILE_UA), -(10**6))]
        if r.random() < 0.6:
            cookies.append(Cookie(uuid_like(r), "desktop", r.choice(DESKTOP_UA), -(10**6)))
        if hh.tablet_cookie:
            cookies.append(Cookie(hh.tablet_cookie, "tablet", TABLET_UA[0], -(10**6)))
        elif r.random() < 0.15:
            cookies.append(Cookie(uuid_like(r), "tablet", r.choice(TABLET_UA), -(10**6)))
        if len(cookies) < 4 and r.random() < 0.3:
            old = r.choice(cookies[:2])
            ua = r.choice(DESKTOP_UA if old.device_type == "desktop" else MOBILE_UA)
            cookies.append(Cookie(uuid_like(r), old.device_type, ua, rint(r, 20, max(20, n_days - 20))))
        return cookies

    def _devices(self, r: Random, hh: Household, app_user: bool, n_days: int) -> list[Device]:
        if not app_user:
            return []
        ios = r.random() < 0.55
        devices = [Device(uuid_like(r).upper() if ios else hex_id(r, 16), "ios" if ios else "android", -(10**6), False)]
        if hh.tablet_device:
            devices.append(Device(hh.tablet_device[0], hh.tablet_device[1], -(10**6), True))
        elif r.random() < 0.15:
            ios = r.random() < 0.55
            devices.append(
                Device(
                    uuid_like(r).upper() if ios else hex_id(r, 16),
                    "ios" if ios else "android",
                    rint(r, 10, max(10, n_days - 10)),
                    False,
                )
            )
        return devices

    def _tastes(self, r: Random, gender: str) -> tuple[tuple[str, ...], list[float], str, dict[str, str]]:
        cats = list(CATEGORIES)
        cat_w = {c: r.gammavariate(0.7, 1.0) + 0.05 for c in cats}
        if gender == "m":
            cat_w["dresses"] = 0.0
        brands: tuple[str, ...] = ()
        brand_w = {b: r.uniform(0.5, 1.5) for b in BRANDS}
        if r.random() < 0.35:
            brands = tuple(r.sample(list(BRANDS), r.choice((1, 2))))
            for b in brands:
                brand_w[b] = 40.0
                for c in BRANDS[b]:
                    cat_w[c] += 0.5
        weights = [
            base * cat_w[s.category] * brand_w[s.brand]
            for base, s in zip(self._style_base, self.catalog.styles, strict=True)
        ]
        sizes = {
            "clothing": r.choices(("XS", "S", "M", "L", "XL"), (0.08, 0.24, 0.34, 0.24, 0.1))[0],
            "jeans": r.choices(("26", "28", "30", "32", "34"), (0.12, 0.25, 0.3, 0.22, 0.11))[0],
            "shoes": r.choices(("3", "4", "5", "6", "7", "8"), (0.06, 0.16, 0.28, 0.26, 0.16, 0.08))[0],
        }
        fav = max(cats, key=lambda c: cat_w[c])
        return brands, list(accumulate(weights)), fav, sizes

    def _system_emails(self, p: Person, r: Random) -> None:
        """Which address the person gave to each system (aliases, typos, family e-mail)."""
        emails: dict[str, str | None] = {}
        for system in ("shop", "crm", "loyalty", "helpdesk", "newsletter", "guest"):
            e = p.email
            if p.email_second and r.random() < 0.25:
                e = p.email_second
            emails[system] = e
        if r.random() < 0.3:
            emails["shop"] = gmail_variant(emails["shop"] or p.email, "shop", r)
        if r.random() < 0.15:
            emails["newsletter"] = gmail_variant(p.email, "news", r)
        fam = p.household.family_email
        if fam:
            for system in ("loyalty", "guest", "crm", "helpdesk", "newsletter"):
                if r.random() < (0.6 if system in ("loyalty", "guest", "crm") else 0.3):
                    emails[system] = fam
        if r.random() < 0.05:
            p.typo_system = r.choice(("shop", "crm", "loyalty", "helpdesk"))
            emails[p.typo_system] = typo(emails[p.typo_system] or p.email, r)
        p.system_email = emails


def person_truth_line(p: Person, clock: Clock) -> str:
    return csv_line(
        (
            p.person_id,
            p.first_name,
            p.last_name,
            p.dob.isoformat(),
            p.postcode,
            p.profile,
            p.household.household_id,
            p.channel,
            p.price_sensitivity,
            "true" if p.returner else "false",
            "true" if p.app_user else "false",
            ";".join(p.favourite_brands),
            clock.day_text(p.active_from),
            clock.day_text(p.active_until),
            p.new_postcode or "",
        )
    )
