"""The product catalogue, price history (markdowns), stores and end-of-day inventory."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate
from random import Random

import numpy as np

from kith.generate.calendar import Clock, Season
from kith.generate.vocab import STORES

CLOTHING_SIZES = ("XS", "S", "M", "L", "XL")
JEANS_SIZES = ("26", "28", "30", "32", "34")
SHOE_SIZES = ("3", "4", "5", "6", "7", "8")
ONE_SIZE = ("ONE",)
POPULAR_SIZES = {"S", "M", "30", "5", "6"}

# category: (code, subcategories, nouns, (min, max) list price in pence, sizes, demand weight)
CATEGORIES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[int, int], tuple[str, ...], float]] = {
    "dresses": (
        "DR",
        ("midi", "maxi", "mini"),
        ("Midi Dress", "Maxi Dress", "Mini Dress"),
        (3500, 12000),
        CLOTHING_SIZES,
        1.0,
    ),
    "tops": (
        "TP",
        ("t-shirts", "blouses", "shirts"),
        ("T-Shirt", "Blouse", "Shirt"),
        (1500, 4500),
        CLOTHING_SIZES,
        1.4,
    ),
    "knitwear": (
        "KN",
        ("jumpers", "cardigans", "knitted vests"),
        ("Jumper", "Cardigan", "Knitted Vest"),
        (3000, 9000),
        CLOTHING_SIZES,
        0.9,
    ),
    "jeans": (
        "JN",
        ("skinny", "straight", "wide leg"),
        ("Skinny Jeans", "Straight Jeans", "Wide Leg Jeans"),
        (4000, 9500),
        JEANS_SIZES,
        1.0,
    ),
    "outerwear": (
        "OW",
        ("coats", "jackets", "puffers"),
        ("Coat", "Jacket", "Puffer"),
        (6000, 22000),
        CLOTHING_SIZES,
        0.6,
    ),
    "shoes": (
        "SH",
        ("trainers", "boots", "sandals"),
        ("Trainers", "Ankle Boots", "Sandals"),
        (4000, 14000),
        SHOE_SIZES,
        0.8,
    ),
    "accessories": ("AC", ("bags", "scarves", "belts"), ("Tote Bag", "Scarf", "Belt"), (1000, 6000), ONE_SIZE, 0.9),
    "sportswear": (
        "SP",
        ("leggings", "hoodies", "sports bras"),
        ("Leggings", "Hoodie", "Sports Bra"),
        (2000, 7000),
        CLOTHING_SIZES,
        0.8,
    ),
}
ADJECTIVES = (
    "Ribbed",
    "Relaxed",
    "Tailored",
    "Linen",
    "Cotton",
    "Wool Blend",
    "Pleated",
    "Cropped",
    "Oversized",
    "Organic",
    "Satin",
    "Quilted",
    "Utility",
    "Classic",
    "Textured",
    "Seamless",
)
# brand: categories it makes (own brand makes everything)
BRANDS: dict[str, tuple[str, ...]] = {
    "Fenmore Essentials": tuple(CATEGORIES),
    "Northvale": ("knitwear", "outerwear", "tops"),
    "Ashby & Rye": ("dresses", "tops", "accessories"),
    "Marlowe": ("dresses", "outerwear", "shoes"),
    "Solenne": ("dresses", "tops", "knitwear"),
    "Bramble": ("accessories", "knitwear", "tops"),
    "Ridgeway Outdoor": ("outerwear", "shoes", "sportswear"),
    "Kestrel Sport": ("sportswear", "shoes", "tops"),
    "Arden Denim": ("jeans", "tops", "outerwear"),
    "Halden": ("shoes", "accessories"),
    "Maison Clé": ("dresses", "accessories", "knitwear"),
    "Sable & Thread": ("tops", "jeans", "dresses"),
}
OWN_BRAND = "Fenmore Essentials"
COLOURS = (
    ("Black", "BLK"),
    ("Navy", "NVY"),
    ("Ivory", "IVR"),
    ("Camel", "CML"),
    ("Khaki", "KHK"),
    ("Red", "RED"),
    ("Pink", "PNK"),
    ("Grey", "GRY"),
    ("Green", "GRN"),
    ("Blue", "BLU"),
)
STYLES_PER_CATEGORY = 8
LIMITED_EDITIONS = 4


def money(pence: int) -> str:
    """Pence as a decimal string with two decimals (negative allowed)."""
    sign = "-" if pence < 0 else ""
    pence = abs(pence)
    return f"{sign}{pence // 100}.{pence % 100:02d}"


def _charm(pence: float) -> int:
    """Round a price to a .49/.99 ending (never below 0.99)."""
    return max(99, round(pence / 50.0) * 50 - 1)


@dataclass(slots=True)
class Style:
    index: int
    style_id: str
    name: str
    brand: str
    category: str
    subcategory: str
    list_price: int
    unit_cost: int
    limited: bool
    launch_day: int
    popularity: float
    colours: list[tuple[str, str]]
    sizes: tuple[str, ...]
    skus: list[int] = field(default_factory=list)
    prices: list[int] = field(default_factory=list)  # paid unit price per period day


@dataclass(slots=True)
class Store:
    index: int
    store_id: str
    name: str
    city: str
    postcode: str
    latitude: float
    longitude: float
    weight: float
    areas: tuple[str, ...]
    opened_on: str


class Catalog:
    """Styles x colours x sizes, daily paid prices, and the store estate."""

    def __init__(self, seed: int, clock: Clock, season: Season, n_stores: int) -> None:
        r = Random(f"{seed}:catalog")
        self.clock = clock
        n_days = clock.n_days
        self.styles: list[Style] = []
        self.sku_codes: list[str] = []
        self.sku_style: list[int] = []
        self.sku_size: list[str] = []
        self.sku_colour: list[str] = []
        brand_names = list(BRANDS)
        limited_slots = set(r.sample(range(len(CATEGORIES) * STYLES_PER_CATEGORY), LIMITED_EDITIONS))
        slot = 0
        for category, (code, subs, nouns, (lo, hi), sizes, weight) in CATEGORIES.items():
            makers = [b for b in brand_names if category in BRANDS[b]]
            for _ in range(STYLES_PER_CATEGORY):
                k = r.randrange(len(subs))
                brand = OWN_BRAND if r.random() < 0.3 else r.choice(makers)
                limited = slot in limited_slots
                slot += 1
                price = _charm(r.uniform(lo, hi) * (2.2 if limited else 1.0))
                if limited:
                    launch = r.randint(max(0, n_days // 5), max(0, n_days * 3 // 4))
                elif r.random() < 0.25:
                    launch = r.randint(0, max(0, n_days - 30))
                else:
                    launch = -r.randint(30, 700)
                n_colours = 1 if limited else r.choices((1, 2, 3), (0.35, 0.45, 0.2))[0]
                style = Style(
                    index=len(self.styles),
                    style_id=f"{code}{r.randint(1000, 9999)}",
                    name=f"{brand} {r.choice(ADJECTIVES)} {nouns[k]}",
                    brand=brand,
                    category=category,
                    subcategory=subs[k],
                    list_price=price,
                    unit_cost=int(price * r.uniform(0.3, 0.45)),
                    limited=limited,
                    launch_day=launch,
                    popularity=weight * r.lognormvariate(0, 0.6) * (4.0 if limited else 1.0),
                    colours=r.sample(COLOURS, n_colours),
                    sizes=sizes,
                )
                while any(s.style_id == style.style_id for s in self.styles):
                    style.style_id = f"{code}{r.randint(1000, 9999)}"
                for colour, colour_code in style.colours:
                    for size in sizes:
                        style.skus.append(len(self.sku_codes))
                        self.sku_codes.append(f"{style.style_id}-{colour_code}-{size}")
                        self.sku_style.append(style.index)
                        self.sku_size.append(size)
                        self.sku_colour.append(colour)
                self.styles.append(style)
        self._price_history(r, season, n_days)
        self.stores = self._stores(r, n_stores)
        self.web_location = len(self.stores)

    def _price_history(self, r: Random, season: Season, n_days: int) -> None:
        runs: list[tuple[int, int]] = []
        day = 0
        while day < n_days:
            if season.sale[day]:
                end = day
                while end + 1 < n_days and season.sale[end + 1]:
                    end += 1
                runs.append((day, end))
                day = end + 1
            else:
                day += 1
        for style in self.styles:
            pct = [0] * n_days
            if not style.limited:
                for first, last in runs:
                    if r.random() < 0.45:
                        cut = r.choice((20, 30, 40, 50))
                        for d in range(first, last + 1):
                            deeper = 10 if d - first > 14 and cut < 50 else 0
                            pct[d] = cut + deeper
                if r.random() < 0.1:
                    cut = r.choice((25, 30, 40))
                    for d in range(r.randrange(max(1, n_days)), n_days):
                        pct[d] = max(pct[d], cut)
            style.prices = [style.list_price if p == 0 else _charm(style.list_price * (100 - p) / 100) for p in pct]

    def _stores(self, r: Random, n: int) -> list[Store]:
        out = []
        for i, (name, city, postcode, lat, lon, weight, areas) in enumerate(STORES[:n]):
            opened = self.clock.date_of(-r.randint(400, 9000)).isoformat()
            out.append(Store(i, f"S{i + 1:03d}", name, city, postcode, lat, lon, weight, areas, opened))
        return out

    def style_cum(self, weights: list[float]) -> list[float]:
        return list(accumulate(weights))

    def product_rows(self, updated_at: str) -> list[dict[str, object]]:
        rows = []
        for sku, code in enumerate(self.sku_codes):
            st = self.styles[self.sku_style[sku]]
            rows.append(
                {
                    "sku": code,
                    "style_id": st.style_id,
                    "product_name": st.name,
                    "brand": st.brand,
                    "category": st.category,
                    "subcategory": st.subcategory,
                    "size": self.sku_size[sku],
                    "colour": self.sku_colour[sku],
                    "list_price": money(st.list_price),
                    "unit_cost": money(st.unit_cost),
                    "currency": "GBP",
                    "is_limited_edition": "true" if st.limited else "false",
                    "launched_on": self.clock.date_of(st.launch_day).isoformat(),
                    "updated_at": updated_at,
                }
            )
        return rows

    def store_rows(self, updated_at: str) -> list[dict[str, object]]:
        return [
            {
                "store_id": s.store_id,
                "store_name": s.name,
                "city": s.city,
                "postcode": s.postcode,
                "latitude": f"{s.latitude:.4f}",
                "longitude": f"{s.longitude:.4f}",
                "timezone": "Europe/London",
                "opened_on": s.opened_on,
                "updated_at": updated_at,
            }
            for s in self.stores
        ]


class InventoryLedger:
    """Units sold per (location, sku, day) over the last days of the period, for the stock files."""

    def __init__(self, catalog: Catalog, n_days: int, window: int = 28) -> None:
        self.first_day = max(0, n_days - window)
        self.n = n_days - self.first_day
        self.sold = np.zeros((len(catalog.stores) + 1, len(catalog.sku_codes), self.n), dtype=np.int32)

    def sell(self, location: int, sku: int, day: int, quantity: int) -> None:
        k = day - self.first_day
        if 0 <= k < self.n:
            self.sold[location, sku, k] += quantity

    def snapshots(self, seed: int, catalog: Catalog):
        """Yield (day, location_id, sku_code, on_hand, on_order) for every day, location and SKU."""
        r = Random(f"{seed}:inventory")
        n_loc = len(catalog.stores) + 1
        on_hand = np.zeros((n_loc, len(catalog.sku_codes)), dtype=np.int64)
        reorder = np.zeros_like(on_hand)
        arriving: dict[int, list[tuple[int, int, int]]] = {}
        for loc in range(n_loc):
            web = loc == catalog.web_location
            scale = 6.0 if web else catalog.stores[loc].weight
            for sku, size in enumerate(catalog.sku_size):
                st = catalog.styles[catalog.sku_style[sku]]
                base = scale * (2.0 + 6.0 * min(st.popularity, 3.0))
                if st.limited:
                    base = (0 if size in POPULAR_SIZES else 0.4) * scale
                elif size in POPULAR_SIZES:
                    base *= 1.3
                on_hand[loc, sku] = int(base * r.uniform(0.3, 1.3)) if r.random() > 0.04 else 0
                reorder[loc, sku] = 0 if st.limited else max(1, int(base * 0.3))
        for k in range(self.n):
            day = self.first_day + k
            for loc, sku, qty in arriving.pop(day, []):
                on_hand[loc, sku] += qty
            on_hand -= self.sold[:, :, k]
            np.maximum(on_hand, 0, out=on_hand)
            pending: dict[tuple[int, int], int] = {}
            for items in arriving.values():
                for loc, sku, qty in items:
                    pending[(loc, sku)] = pending.get((loc, sku), 0) + qty
            low = np.argwhere(on_hand <= reorder)
            for loc, sku in low.tolist():
                if reorder[loc, sku] and (loc, sku) not in pending and r.random() < 0.5:
                    qty = int(reorder[loc, sku] * r.uniform(2.0, 4.0))
                    arriving.setdefault(day + r.randint(2, 6), []).append((loc, sku, qty))
                    pending[(loc, sku)] = qty
            for loc in range(n_loc):
                location_id = "WEB" if loc == catalog.web_location else catalog.stores[loc].store_id
                for sku, code in enumerate(catalog.sku_codes):
                    yield day, location_id, code, int(on_hand[loc, sku]), pending.get((loc, sku), 0)
