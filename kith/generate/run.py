"""`generate()`: simulate persons chunk by chunk and stream their exports into the landing folder."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from random import Random

from kith.config import DEFAULT_END_DATE, DEFAULT_START_DATE
from kith.generate import schema as ent
from kith.generate.calendar import DAY, HOUR, Clock, Season
from kith.generate.catalog import Catalog
from kith.generate.channels import Life, World, build_world, poisson
from kith.generate.ids import below, rint, uuid_like
from kith.generate.people import Population, person_truth_line
from kith.generate.vocab import BOT_UA, SITE
from kith.generate.writers import Sink, TruthFiles

log = logging.getLogger(__name__)

CHUNK_SIZE = 2_000
"""Persons simulated between two flushes; bounds memory. Part of the output contract: rows of a
file are sorted by time within each chunk, so changing it reorders lines (not their content)."""


@dataclass(frozen=True)
class GenerateSummary:
    out: Path
    truth: Path
    customers: int
    files_per_entity: dict[str, int] = field(default_factory=dict)  # per "<system>/<entity>"
    rows_per_entity: dict[str, int] = field(default_factory=dict)  # data lines, headers excluded
    malformed_rows: int = 0
    elapsed_seconds: float = 0.0


def _check(
    out: Path,
    truth: Path,
    customers: int,
    start_date: date,
    end_date: date,
    emit_from: date | None,
    emit_until: date | None,
) -> None:
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    if start_date > end_date:
        raise ValueError(f"start_date {start_date} is after end_date {end_date}")
    if emit_from is not None and emit_until is not None and emit_from > emit_until:
        raise ValueError(f"emit_from {emit_from} is after emit_until {emit_until}")
    out_r, truth_r = out.resolve(), truth.resolve()
    if truth_r == out_r or out_r in truth_r.parents:
        raise ValueError(f"ground-truth folder {truth} must not be inside the landing folder {out}")
    if out.exists() and (out.is_file() or any(p.is_file() for p in out.rglob("*"))):
        raise ValueError(f"landing folder {out} already contains files; empty it or choose another folder")


def generate(
    out: Path,
    truth: Path,
    customers: int = 10_000,
    seed: int = 42,
    start_date: date = DEFAULT_START_DATE,
    end_date: date = DEFAULT_END_DATE,
    emit_from: date | None = None,
    emit_until: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateSummary:
    """Write sample landing files for `customers` simulated persons, plus the ground truth.

    Only files whose delivery date lies in [emit_from, emit_until] are written; the content of
    every file is the same whatever the window, so a history run followed by an increment run
    gives the same files as one full run. Same arguments give byte-identical files.
    """
    started = time.perf_counter()
    out, truth = Path(out), Path(truth)
    _check(out, truth, customers, start_date, end_date, emit_from, emit_until)
    clock = Clock(start_date, end_date)
    season = Season(clock)
    catalog = Catalog(seed, clock, season, min(60, max(5, customers // 1500)))
    world = build_world(seed, clock, season, catalog)
    first = clock.day_from_date(emit_from) if emit_from is not None else 0
    last = clock.day_from_date(emit_until) if emit_until is not None else clock.n_days - 1
    out.mkdir(parents=True, exist_ok=True)
    truth_files = TruthFiles(truth)
    sink = Sink(out, clock, first, last, truth_files, ent.ENTITIES)
    try:
        snapshot_time = clock.iso_z(-6 * HOUR)
        sink.begin(None, Random(0))
        for row in catalog.product_rows(snapshot_time):
            sink.add(ent.PRODUCTS, 0, 0, row)
        for row in catalog.store_rows(snapshot_time):
            sink.add(ent.STORES, 0, 0, row)
        sink.flush()

        population = Population(seed, customers, clock, catalog)
        if progress:
            progress(0, customers)
        for chunk_start in range(0, customers, CHUNK_SIZE):
            chunk_end = min(customers, chunk_start + CHUNK_SIZE)
            for i in range(chunk_start, chunk_end):
                person = population.person(i)
                sink.begin(person.person_id, person.rng)
                Life(world, person, sink).run()
                sink.end()
                sink.persons.append(person_truth_line(person, clock))
            sink.flush()
            if progress:
                progress(chunk_end, customers)
        _bots(world, sink, customers)
        _inventory(world, sink)
        for day in range(clock.n_days):
            if not season.closed[day]:
                for store in catalog.stores:
                    sink.touch(ent.POS_TRANSACTIONS, day, store.store_id)
                    sink.touch(ent.POS_TRANSACTION_LINES, day, store.store_id)
        sink.flush()
    finally:
        truth_files.close()
    totals = sink.totals
    summary = GenerateSummary(
        out=out,
        truth=truth,
        customers=customers,
        files_per_entity=dict(sorted(totals.files.items())),
        rows_per_entity=dict(sorted(totals.rows.items())),
        malformed_rows=totals.malformed,
        elapsed_seconds=round(time.perf_counter() - started, 3),
    )
    log.info(
        "generated %d persons: %d files, %d rows, %d malformed, %.1f s",
        customers,
        sum(summary.files_per_entity.values()),
        sum(summary.rows_per_entity.values()),
        summary.malformed_rows,
        summary.elapsed_seconds,
    )
    return summary


def _bots(world: World, sink: Sink, customers: int) -> None:
    """Crawler traffic: web events no person stands behind (empty person_id in the truth)."""
    clock, cat = world.clock, world.catalog
    per_day = max(1.0, customers / 400)
    for day in range(clock.n_days):
        r = Random(f"{world.seed}:bots:{day}")
        sink.begin("", r)
        for _ in range(poisson(per_day, r)):
            cookie = uuid_like(r)
            ua = r.choice(BOT_UA)
            ip = f"66.249.{rint(r, 64, 95)}.{rint(r, 1, 254)}"
            t = day * DAY + below(r, DAY)
            for _ in range(rint(r, 1, 3)):
                style = r.choice(cat.styles)
                path = world.product_paths[style.index] if r.random() < 0.7 else world.category_paths[style.category]
                received = t + rint(r, 0, 2)
                sink.add(
                    ent.WEB_EVENTS,
                    received // DAY,
                    received,
                    {
                        "event_id": uuid_like(r),
                        "event_type": "page_view",
                        "anonymous_id": cookie,
                        "occurred_at": clock.iso_local(t, 0),
                        "received_at": clock.iso_ms_z(received, below(r, 1000)),
                        "page_url": SITE + path,
                        "page_path": path,
                        "device_type": "desktop",
                        "user_agent": ua,
                        "ip_address": ip,
                    },
                )
                t += rint(r, 1, 20)
        if day % 30 == 29:
            sink.flush()
    sink.flush()


def _inventory(world: World, sink: Sink) -> None:
    sink.begin(None, Random(f"{world.seed}:inventory-noise"))
    current = None
    for day, location_id, sku, on_hand, on_order in world.inventory.snapshots(world.seed, world.catalog):
        if day != current:
            if current is not None:
                sink.flush()
            current = day
            snapshot_date = world.clock.day_text(day)
        sink.add(
            ent.INVENTORY,
            day,
            0,
            {
                "snapshot_date": snapshot_date,
                "location_id": location_id,
                "sku": sku,
                "quantity_on_hand": on_hand,
                "quantity_on_order": on_order or None,
            },
        )
    sink.flush()
