"""The sample-data generator against its contract, docs/landing_formats.md.

The spec's tables are parsed here, so generator and spec cannot drift apart unnoticed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from kith.generate import generate
from kith.generate.schema import ENTITIES

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "docs" / "landing_formats.md"
CUSTOMERS = 250
SEED = 7
SPLIT_DAY = date(2026, 3, 15)

# -- the spec ---------------------------------------------------------------------------------
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^-?\d+$")
_DEC = re.compile(r"^-?\d+(\.\d{1,2})?$")


def parse_spec() -> dict[str, dict]:
    """folder -> {"fmt", "columns": [(name, path, type, required, notes)]} from the spec's tables."""
    entities: dict[str, dict] = {}
    current = None
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.search(r"`([a-z_]+/[a-z_]+)/[^`]*\.(jsonl|csv)`", line)
        if m and not line.startswith("|"):
            current = (m.group(1), m.group(2))
        if line.startswith("| column |") and current:
            header = [h.strip() for h in line.strip("|").split("|")]
            cols = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                row = dict(zip(header, cells, strict=True))
                typ = row["type"]
                cols.append(
                    (
                        row["column"],
                        row.get("JSON path"),
                        typ.split(",")[0].strip(),
                        "required" in typ,
                        row.get("notes", ""),
                    )
                )
                i += 1
            entities[current[0]] = {"fmt": current[1], "columns": cols}
            continue
        i += 1
    return entities


SPEC_ENTITIES = parse_spec()
ALL_COLUMNS = {c[0] for e in SPEC_ENTITIES.values() for c in e["columns"]}


def vocabulary(notes: str) -> set[str] | None:
    """The allowed values when a column's notes are nothing but a list of `values`."""
    values = re.findall(r"`([^`]+)`", notes)
    rest = re.sub(r"\([^)]*\)", "", re.sub(r"`[^`]+`", "", notes))
    if not values or re.sub(r"[,\s]|\bor\b", "", rest) or set(values) & ALL_COLUMNS:
        return None
    return set(values)


# -- parsing and validating landing lines -------------------------------------------------------
def check_value(value: object, typ: str) -> None:
    if typ == "text":
        if not isinstance(value, str):
            raise ValueError(f"not text: {value!r}")
    elif typ == "int":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and _INT.match(value))):
            raise ValueError(f"not an int: {value!r}")
    elif typ == "decimal":
        if isinstance(value, bool):
            raise ValueError("bool is not a decimal")
        text = repr(value) if isinstance(value, float) else str(value)
        if not _DEC.match(text):
            raise ValueError(f"not a decimal with at most 2 places: {value!r}")
    elif typ == "double":
        try:
            float(str(value))
        except ValueError:
            raise ValueError(f"not a double: {value!r}") from None
    elif typ == "bool":
        if not (isinstance(value, bool) or str(value).lower() in {"true", "false", "1", "0", "yes", "no"}):
            raise ValueError(f"not a bool: {value!r}")
    elif typ == "date":
        if not (isinstance(value, str) and _DATE.match(value)):
            raise ValueError(f"not a date: {value!r}")
        date.fromisoformat(value)
    elif typ == "timestamp":
        if not (isinstance(value, str) and _TS.match(value)):
            raise ValueError(f"not a timestamp: {value!r}")
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise AssertionError(f"unknown type {typ}")


def json_get(obj: dict, path: str) -> object:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def json_paths(obj: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in obj.items():
        if isinstance(v, dict):
            out |= json_paths(v, f"{prefix}{k}.")
        else:
            out.add(f"{prefix}{k}")
    return out


def parse_line(folder: str, text: str, header: list[str] | None) -> dict[str, object]:
    """Documented column -> value for one line; raises ValueError when the loader must reject it."""
    spec = SPEC_ENTITIES[folder]
    if spec["fmt"] == "jsonl":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"bad json: {exc}") from None
        if not isinstance(obj, dict):
            raise ValueError("not an object")
        values = {name: json_get(obj, path) for name, path, *_ in spec["columns"]}
    else:
        fields = next(csv.reader([text]))
        if header is None or len(fields) != len(header):
            raise ValueError("wrong number of columns")
        values = {h: (f if f != "" else None) for h, f in zip(header, fields, strict=True)}
    for name, _path, typ, required, _notes in spec["columns"]:
        v = values.get(name)
        if v is None or v == "":
            if required:
                raise ValueError(f"required {name} missing")
            continue
        check_value(v, typ)
    return values


def landing_files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def iter_lines(root: Path):
    """(relative file, folder, line number, text, header) for every data line under root."""
    for rel, path in landing_files(root).items():
        folder = "/".join(rel.split("/")[:2])
        lines = path.read_text(encoding="utf-8").split("\n")
        assert lines[-1] == "", f"{rel} does not end with a newline"
        header = None
        start = 1
        if rel.endswith(".csv"):
            header = next(csv.reader([lines[0]]))
            start = 2
        for n, text in enumerate(lines[:-1], start=1):
            if n >= start:
                yield rel, folder, n, text, header


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def digest(root: Path) -> dict[str, str]:
    return {rel: hashlib.sha256(p.read_bytes()).hexdigest() for rel, p in landing_files(root).items()}


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("full")
    calls: list[tuple[int, int]] = []
    summary = generate(
        base / "landing",
        base / "truth",
        customers=CUSTOMERS,
        seed=SEED,
        progress=lambda done, total: calls.append((done, total)),
    )
    return base / "landing", base / "truth", summary, calls


@pytest.fixture(scope="module")
def parsed(sample):
    """Every parseable line, grouped by entity, plus the lines that failed to parse."""
    out = sample[0]
    good: dict[str, list[tuple[str, int, dict]]] = defaultdict(list)
    bad: dict[tuple[str, int], str] = {}
    for rel, folder, n, text, header in iter_lines(out):
        try:
            good[folder].append((rel, n, parse_line(folder, text, header)))
        except ValueError as exc:
            bad[(rel, n)] = str(exc)
    return good, bad


# -- contract -----------------------------------------------------------------------------------
def test_generator_schema_matches_spec() -> None:
    assert {e.folder for e in ENTITIES} == set(SPEC_ENTITIES)
    for e in ENTITIES:
        spec = SPEC_ENTITIES[e.folder]
        assert e.fmt == spec["fmt"], e.folder
        ours = [(c.name, c.path, c.type, c.required) for c in e.columns]
        theirs = [(n, p if spec["fmt"] == "jsonl" else None, t, r) for n, p, t, r, _ in spec["columns"]]
        assert ours == theirs, e.folder


def test_every_entity_has_files_with_documented_columns(sample, parsed) -> None:
    out, *_ = sample
    good, _ = parsed
    files = landing_files(out)
    for folder, spec in SPEC_ENTITIES.items():
        mine = [rel for rel in files if rel.startswith(folder + "/")]
        assert mine, f"no files for {folder}"
        if spec["fmt"] == "csv":
            for rel in mine:
                header = next(csv.reader([files[rel].open(encoding="utf-8").readline()]))
                assert header == [c[0] for c in spec["columns"]], rel
        else:
            seen: set[str] = set()
            for rel in mine:
                for line in files[rel].read_text(encoding="utf-8").splitlines():
                    try:
                        seen |= json_paths(json.loads(line))
                    except json.JSONDecodeError:
                        continue
            assert seen == {c[1] for c in spec["columns"]}, folder
        assert good[folder], f"no valid rows for {folder}"


def test_file_names_follow_the_spec(sample) -> None:
    out, *_ = sample
    for rel in landing_files(out):
        parts = rel.split("/")
        if parts[0] == "pos":
            assert len(parts) == 4 and _DATE.match(parts[2]) and re.match(r"^S\d{3}\.csv$", parts[3]), rel
        else:
            assert len(parts) == 3 and re.match(r"^\d{4}-\d{2}-\d{2}\.(csv|jsonl)$", parts[2]), rel
            assert parts[2].endswith("." + SPEC_ENTITIES["/".join(parts[:2])]["fmt"]), rel


def test_vocabularies_are_respected(parsed) -> None:
    good, _ = parsed
    checked = 0
    for folder, spec in SPEC_ENTITIES.items():
        for name, _path, _typ, _req, notes in spec["columns"]:
            allowed = vocabulary(notes)
            if allowed is None:
                continue
            values = {row[name] for _, _, row in good[folder] if row.get(name) is not None}
            assert values <= allowed, (folder, name, values - allowed)
            assert values, (folder, name)
            checked += 1
    assert checked >= 15


def test_value_domains(parsed, sample) -> None:
    good, _ = parsed
    for _, _, row in good["helpdesk/tickets"]:
        assert row["satisfaction_score"] is None or 1 <= int(row["satisfaction_score"]) <= 5
    for _, _, row in good["loyalty/points_ledger"]:
        points = int(row["points"])
        assert points < 0 if row["entry_type"] in ("redeem", "expire") else points > 0 or row["entry_type"] == "adjust"
    locations = {row["location_id"] for _, _, row in good["erp/inventory"]}
    stores = {row["store_id"] for _, _, row in good["erp/stores"]}
    assert locations == stores | {"WEB"}
    assert len(stores) == 5  # clamp(250 // 1500, 5, 60)
    assert 400 <= len(good["erp/products"]) <= 600
    zero = [row for _, _, row in good["erp/inventory"] if int(row["quantity_on_hand"]) == 0]
    assert zero


def test_progress_and_summary(sample) -> None:
    out, truth, summary, calls = sample
    assert calls[0] == (0, CUSTOMERS) and calls[-1] == (CUSTOMERS, CUSTOMERS)
    assert summary.out == out and summary.truth == truth
    lines: dict[str, int] = defaultdict(int)
    files: dict[str, int] = defaultdict(int)
    for rel, p in landing_files(out).items():
        folder = "/".join(rel.split("/")[:2])
        files[folder] += 1
        lines[folder] += p.read_text(encoding="utf-8").count("\n") - (1 if rel.endswith(".csv") else 0)
    assert summary.files_per_entity == dict(files)
    assert summary.rows_per_entity == dict(lines)
    assert summary.malformed_rows == len(read_csv(truth / "malformed.csv")) > 0


# -- determinism and the emit window ------------------------------------------------------------
def test_same_seed_same_bytes_other_seed_other_bytes(sample, tmp_path: Path) -> None:
    out, truth, *_ = sample
    generate(tmp_path / "a", tmp_path / "ta", customers=CUSTOMERS, seed=SEED)
    assert digest(tmp_path / "a") == digest(out)
    assert digest(tmp_path / "ta") == digest(truth)
    generate(tmp_path / "b", tmp_path / "tb", customers=CUSTOMERS, seed=SEED + 1)
    other = {k: v for k, v in digest(tmp_path / "b").items() if k.startswith("web/")}
    mine = {k: v for k, v in digest(out).items() if k.startswith("web/")}
    assert sum(other.get(k) != v for k, v in mine.items()) > len(mine) * 0.9


def test_same_bytes_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    """No output may depend on set or dict order under another PYTHONHASHSEED."""
    args = dict(customers=60, seed=3, start_date=date(2026, 6, 1), end_date=date(2026, 7, 15))
    generate(tmp_path / "here", tmp_path / "here_truth", **args)
    script = (
        "import datetime\nimport sys\nfrom pathlib import Path\nfrom kith.generate import generate\n"
        f"generate(Path(sys.argv[1]), Path(sys.argv[2]), **{args!r})\n"
    )
    for hash_seed in ("1", "987"):
        there = tmp_path / f"there{hash_seed}"
        subprocess.run(
            [sys.executable, "-c", script, str(there), str(there) + "_truth"],
            check=True,
            cwd=ROOT,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
        )
        assert digest(there) == digest(tmp_path / "here")
        assert digest(Path(str(there) + "_truth")) == digest(tmp_path / "here_truth")


def test_history_plus_increment_equals_full_run(sample, tmp_path: Path) -> None:
    out, truth, *_ = sample
    before = date.fromordinal(SPLIT_DAY.toordinal() - 1)
    generate(tmp_path / "h", tmp_path / "th", customers=CUSTOMERS, seed=SEED, emit_until=before)
    generate(tmp_path / "i", tmp_path / "ti", customers=CUSTOMERS, seed=SEED, emit_from=SPLIT_DAY)
    history, increment, full = digest(tmp_path / "h"), digest(tmp_path / "i"), digest(out)
    assert not set(history) & set(increment)
    assert history | increment == full
    assert any("erp/products/" in k for k in history) and not any("erp/products/" in k for k in increment)
    assert all(SPLIT_DAY.isoformat() <= re.search(r"\d{4}-\d{2}-\d{2}", k).group() for k in increment)

    def records(folder: Path) -> set[tuple[str, ...]]:
        return {tuple(r.values()) for r in read_csv(folder / "records.csv")}

    assert records(tmp_path / "th") | records(tmp_path / "ti") == records(truth)
    malformed = read_csv(tmp_path / "th" / "malformed.csv") + read_csv(tmp_path / "ti" / "malformed.csv")
    assert sorted(map(tuple, (r.values() for r in malformed))) == sorted(
        map(tuple, (r.values() for r in read_csv(truth / "malformed.csv")))
    )
    assert (tmp_path / "th" / "persons.csv").read_bytes() == (truth / "persons.csv").read_bytes()


def test_refusals(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.csv").write_text("x\n")
    with pytest.raises(ValueError, match="already contains files"):
        generate(tmp_path / "busy", tmp_path / "t", customers=5)
    with pytest.raises(ValueError, match="at least 1"):
        generate(tmp_path / "o1", tmp_path / "t", customers=0)
    with pytest.raises(ValueError, match="after"):
        generate(tmp_path / "o2", tmp_path / "t", customers=5, start_date=date(2026, 2, 1), end_date=date(2026, 1, 1))
    with pytest.raises(ValueError, match="inside the landing folder"):
        generate(tmp_path / "o3", tmp_path / "o3" / "truth", customers=5)
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o3").exists()


# -- malformed rows and ground truth -----------------------------------------------------------
def test_malformed_lines_fail_and_all_others_parse(sample, parsed) -> None:
    out, truth, *_ = sample
    _, bad = parsed
    listed = {(r["file"], int(r["line"])): r["kind"] for r in read_csv(truth / "malformed.csv")}
    assert set(bad) == set(listed), "exactly the listed lines are malformed"
    kinds = set(listed.values())
    assert {"truncated_json", "non_numeric", "missing_required", "extra_columns", "missing_columns"} <= kinds
    assert kinds & {"invalid_timestamp", "invalid_date"}
    assert not any(f.startswith(("erp/products/", "erp/stores/")) for f, _ in listed)
    assert all((out / f).is_file() for f, _ in listed)


def test_ground_truth_covers_every_record(sample, parsed) -> None:
    out, truth, *_ = sample
    good, _ = parsed
    assert not truth.resolve().is_relative_to(out.resolve())
    persons = {r["person_id"] for r in read_csv(truth / "persons.csv")}
    assert len(persons) == CUSTOMERS
    truth_ids: dict[str, set[str]] = defaultdict(set)
    for r in read_csv(truth / "records.csv"):
        assert r["person_id"] == "" or r["person_id"] in persons
        truth_ids[f"{r['system']}/{r['entity']}"].add(r["record_id"])
    key = {e.folder: e.key for e in ENTITIES if e.key}
    assert set(truth_ids) == set(key)
    for folder, column in key.items():
        landed = {row[column] for _, _, row in good[folder]}
        assert landed and landed <= truth_ids[folder], folder
    ids = read_csv(truth / "identifiers.csv")
    assert {r["person_id"] for r in ids} <= persons
    assert {r["identifier_type"] for r in ids} == {
        "email",
        "phone",
        "anonymous_id",
        "device_id",
        "shop_customer_id",
        "crm_id",
        "loyalty_number",
        "card_token",
    }


def test_identifiers_appear_exactly_as_in_landing_files(sample, parsed) -> None:
    out, truth, *_ = sample
    good, bad = parsed
    landed: set[tuple[str, str]] = set()
    for e in ENTITIES:
        for _, _, row in good[e.folder]:
            for column, id_type in e.identifiers:
                if row.get(column):
                    landed.add((id_type, row[column]))
    raw_bad = "\n".join((out / rel).read_text(encoding="utf-8").split("\n")[n - 1] for rel, n in bad)
    listed = {(r["identifier_type"], r["identifier_value"]) for r in read_csv(truth / "identifiers.csv")}
    only_in_bad_lines = listed - landed
    assert all(json.dumps(v)[1:-1] in raw_bad or v in raw_bad for _, v in only_in_bad_lines)
    unowned = landed - listed
    assert unowned and all(t == "anonymous_id" for t, _ in unowned), "only crawler cookies belong to nobody"


# -- hard data ----------------------------------------------------------------------------------
def test_identity_hardness(sample, parsed) -> None:
    _, truth, *_ = sample
    good, _ = parsed
    ids = read_csv(truth / "identifiers.csv")
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in ids:
        owners[(r["identifier_type"], r["identifier_value"])].add(r["person_id"])
    shared = {k for k, v in owners.items() if len(v) > 1}
    assert any(
        t == "email" and "@" in v and v.strip().lower() not in ("test@test.com", "noemail@none.com") for t, v in shared
    ), "a family e-mail shared by several persons"
    assert any(t == "device_id" for t, _ in shared), "a shared family tablet"
    emails = [v for t, v in owners if t == "email"]
    assert any(v != v.strip() for v in emails), "whitespace around e-mails"
    assert any(v.strip() != v.strip().lower() for v in emails), "upper-case e-mails"
    assert any("+" in v.split("@")[0] for v in emails), "gmail +tag aliases"
    junk = {"test@test.com", "noemail@none.com", "n/a", "none", "-", "0000000000", "07000000000"}
    assert {v for _, v in owners} & junk, "placeholder junk"
    phones = [v for t, v in owners if t == "phone" and v not in junk]
    shapes = {re.sub(r"\d", "9", v) for v in phones}
    assert len(shapes) >= 6, shapes
    names = {row["first_name"] for _, _, row in good["loyalty/members"]} | {
        row["first_name"] for _, _, row in good["crm/contacts"]
    }
    assert any(n and n.isupper() for n in names) and any(n and not n.isascii() for n in names)


def test_event_hardness(parsed) -> None:
    good, _ = parsed
    web_ids = [row["event_id"] for _, _, row in good["web/events"]]
    assert len(web_ids) > len(set(web_ids)), "resent events"
    late = 0
    for _, _, row in good["web/events"] + good["app/events"]:
        occurred = datetime.fromisoformat(row["occurred_at"].replace("Z", "+00:00"))
        received = datetime.fromisoformat(row["received_at"].replace("Z", "+00:00"))
        late += (received - occurred).total_seconds() > 86_400
    assert late > 0, "late-arriving events"
    orders = [row for _, _, row in good["shop/orders"]]
    guests = {o["order_id"] for o in orders if o["shop_customer_id"] is None}
    assert 0.15 < len(guests) / len({o["order_id"] for o in orders}) < 0.5, "guest checkouts"
    statuses = defaultdict(set)
    for o in orders:
        statuses[o["order_id"]].add(o["status"])
    assert any({"placed", "delivered"} <= s for s in statuses.values())
    assert any("cancelled" in s for s in statuses.values())
    offsets = {row["transaction_time"][-6:] for _, _, row in good["pos/transactions"]}
    assert offsets == {"+00:00", "+01:00"}
    anonymous = [t for _, _, t in good["pos/transactions"] if not t["loyalty_number"] and not t["card_token"]]
    assert anonymous, "till transactions nobody can be traced from"
    markdown = [x for _, _, x in good["shop/order_lines"] if Decimal(x["unit_price"]) < Decimal(x["unit_list_price"])]
    assert markdown, "markdown purchases"


def test_online_to_offline_journeys(parsed) -> None:
    good, _ = parsed
    sales = {(t["store_id"], t["business_date"], t["transaction_id"]) for _, _, t in good["pos/transactions"]}
    lines = defaultdict(set)
    for _, _, line in good["pos/transaction_lines"]:
        lines[line["transaction_id"]].add(line["sku"])
    bought = {(store, day, sku) for store, day, txn in sales for sku in lines[txn]}
    scans = [s for _, _, s in good["qr/scans"] if s["sku"]]
    followed = [s for s in scans if (s["store_id"], s["scanned_at"][:10], s["sku"]) in bought]
    assert followed, "a QR scan followed by buying that SKU in that store"
    viewed = {(row["anonymous_id"], row["sku"]) for _, _, row in good["web/events"] if row["sku"]}
    assert any(s["loyalty_number"] for s in scans)
    assert viewed


def test_behaviour_signal(sample) -> None:
    _, truth, *_ = sample
    persons = read_csv(truth / "persons.csv")
    profiles = {p["profile"] for p in persons}
    assert profiles == {"frequent", "regular", "one_off", "churner", "new", "browser"}
    assert {p["channel_preference"] for p in persons} == {"online", "store", "omni"}
    churners = [p for p in persons if p["profile"] == "churner"]
    assert all(p["last_active_date"] < "2026-10-31" for p in churners)
    assert len({p["household_id"] for p in persons}) < len(persons), "multi-person households"


def test_memory_is_bounded(tmp_path: Path) -> None:
    """Peak RSS for 20k persons stays close to 2k persons (chunks, not the population, in memory)."""
    script = (
        "import resource, sys\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "import kith.generate.run as run\n"
        "run.CHUNK_SIZE = 500\n"
        "n, out = int(sys.argv[1]), Path(sys.argv[2])\n"
        "run.generate(out / 'l', out / 't', customers=n, start_date=date(2026, 5, 1), end_date=date(2026, 5, 14))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    peaks = []
    for n in (2_000, 20_000):
        proc = subprocess.run(
            [sys.executable, "-c", script, str(n), str(tmp_path / str(n))],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        peaks.append(int(proc.stdout.split()[-1]))
    small, large = peaks
    assert large < small * 1.3 + 20_000, f"peak RSS {small} kB for 2k persons, {large} kB for 20k"
