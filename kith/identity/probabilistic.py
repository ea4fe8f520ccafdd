"""Probabilistic matching of person records (Fellegi-Sunter, with Splink on DuckDB).

Deterministic resolution links records that share an identifier. Records of one person that share
none (a typo in the email, a nickname, a new postcode) are found here: every pair of records that
passes a blocking rule is scored on first name, last name, date of birth, address (street line
and postcode together), phone and email. Each comparison has levels (exact, nickname, fuzzy, ...)
whose m probability (level seen among true matches) and u probability (level seen among
non-matches) are estimated from the data: u by random sampling with a fixed seed, m by
expectation maximisation over two blocking rules, the prior by deterministic rules. The pair's
match weight is the sum of log2(m/u) over the comparisons plus the prior's; its match
probability decides: `link` at or above the link threshold, `review` between the thresholds.
A pair whose first names or birth dates are both present and unrelated is never a link, only
reviewed (``CONFLICTING_COMPARISONS``: households break the model's independence assumption).

The input table holds one row per record (``int_identity_person_records``): ``record_id``,
``source_system``, ``anchor_identifier_type``, ``anchor_identifier_value``, ``first_name``,
``last_name``, ``birth_date``, ``address_line1``, ``postcode``, ``email``, ``phone``; junk values
already null. Below ``MIN_RECORDS`` records the parameters cannot be estimated: a warning is
logged and no pairs are returned (the build goes on with deterministic identity only).

Splink works in a private in-memory catalog attached to the caller's connection for the duration
of the call, so none of its scratch tables reach (or collide with) the warehouse schemas.

The settings are built by :func:`build_settings`; ``python -m kith.identity.probabilistic``
writes them (with the training plan and thresholds) to ``SETTINGS_PATH`` for review, and a test
keeps that file equal to the code.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, DuckDBAPI, Linker, SettingsCreator, block_on

logger = logging.getLogger(__name__)

SETTINGS_PATH = Path(__file__).resolve().parents[2] / "models" / "intermediate" / "identity" / "splink_settings.json"

#: Fewer records than this cannot train a model (EM needs matches inside its blocks, u needs pairs).
MIN_RECORDS = 200
DEFAULT_SEED = 5_000
DEFAULT_LINK_THRESHOLD = 0.99
DEFAULT_REVIEW_THRESHOLD = 0.80

#: Pairs sampled at random to estimate u (all pairs when there are fewer).
U_MAX_PAIRS = 2_000_000
#: EM sessions: each estimates m for the comparisons its blocking rule does not use, so together
#: they cover every comparison. Personal attributes make the blocks: household members share a
#: surname, an address and sometimes an email, so blocks on those would teach EM that a household
#: is one person.
EM_BLOCKING_RULES: tuple[tuple[str, ...], ...] = (("phone",), ("birth_date",))
#: Rules assumed to find this share of all true pairs, for the prior (probability that two
#: random records match). Deliberately conservative: a lower prior asks more evidence of a link.
PRIOR_RULES: tuple[tuple[str, ...], ...] = (("email",), ("phone",), ("first_name", "last_name", "birth_date"))
PRIOR_RECALL = 0.9

#: Columns the input table must have.
RECORD_COLUMNS = (
    "record_id",
    "source_system",
    "anchor_identifier_type",
    "anchor_identifier_value",
    "first_name",
    "last_name",
    "birth_date",
    "address_line1",
    "postcode",
    "email",
    "phone",
)
#: Comparisons, in settings order (each named after its output column).
COMPARISONS = ("first_name", "last_name", "birth_date", "address", "phone", "email")
#: Comparisons whose last level (both values present, nothing in common) bars a link whatever the
#: score: the pair goes to review instead. Household members share a surname, an address, often
#: an email and its number: evidence the model counts as independent, which it is not, so a
#: strong enough sum could otherwise link two people with different first names or birth dates.
CONFLICTING_COMPARISONS = ("first_name", "birth_date")

#: Common English given names and their short forms (lowercase letters, as in the records).
#: A name and its short forms share a root, so `bob` ~ `robert` and `bob` ~ `rob` at the
#: nickname level; a short form of several names (`alex`, `sam`) has several roots.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "abigail": ("abby", "abbie", "abi", "gail"),
    "alexander": ("alex", "alec", "sandy", "xander"),
    "alexandra": ("alex", "lexi", "sandra", "sandy"),
    "amelia": ("millie", "amy", "mia"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony", "ant"),
    "benjamin": ("ben", "benny", "benji"),
    "catherine": ("cath", "cathy", "kate", "katie", "kat"),
    "charles": ("charlie", "chas", "chuck"),
    "charlotte": ("lottie", "charlie", "lotte"),
    "christine": ("chris", "chrissie", "tina"),
    "christopher": ("chris", "kit", "topher"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davy", "davie"),
    "deborah": ("deb", "debbie", "debs"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "eleanor": ("ellie", "nell", "nora", "elle"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "libby", "bess"),
    "frederick": ("fred", "freddie"),
    "gregory": ("greg",),
    "harriet": ("hattie", "hatty"),
    "henry": ("harry", "hal", "hank"),
    "jacqueline": ("jackie", "jacqui"),
    "james": ("jim", "jimmy", "jamie", "jem"),
    "jennifer": ("jen", "jenny", "jenni"),
    "jessica": ("jess", "jessie"),
    "john": ("jack", "johnny", "jon"),
    "jonathan": ("jon", "jonny", "nathan"),
    "joseph": ("joe", "joey"),
    "josephine": ("jo", "josie"),
    "katherine": ("kate", "katie", "kathy", "kath", "kat", "kitty"),
    "kenneth": ("ken", "kenny"),
    "lawrence": ("larry", "laurie"),
    "leonard": ("len", "lenny", "leo"),
    "margaret": ("maggie", "meg", "peggy", "madge", "marge", "greta"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mick", "mikey", "micky"),
    "nathaniel": ("nat", "nate", "nathan"),
    "nicholas": ("nick", "nicky", "nico"),
    "oliver": ("ollie", "olly"),
    "olivia": ("liv", "livvy", "livia"),
    "patricia": ("pat", "patty", "trish", "tricia"),
    "patrick": ("pat", "paddy"),
    "peter": ("pete",),
    "philip": ("phil", "pip"),
    "rebecca": ("becky", "becca", "bex"),
    "richard": ("rich", "richie", "rick", "ricky", "dick"),
    "robert": ("bob", "bobby", "rob", "robbie", "bert"),
    "samantha": ("sam", "sammy", "sammie"),
    "samuel": ("sam", "sammy"),
    "stephanie": ("steph", "steff"),
    "stephen": ("steve", "stevie"),
    "steven": ("steve", "stevie"),
    "susan": ("sue", "susie", "suzy"),
    "theresa": ("tess", "tessa", "terri", "tracy"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "vicki", "tori"),
    "william": ("will", "bill", "billy", "willie", "liam"),
}

# UK postcode parts (outward code + first digit of the inward code = sector; outward code = district);
# other countries' codes fall through to exact / different
_POSTCODE_SECTOR = "^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]"
_POSTCODE_DISTRICT = "^[A-Z]{1,2}[0-9][A-Z0-9]? "


class _Comparison(cl.CustomComparison):
    """A custom comparison that keeps its description (Splink 5.0's CustomComparison drops it)."""

    def create_description(self) -> str:
        return self._description or super().create_description()


def _comparisons() -> list[cl.CustomComparison]:
    first_name = _Comparison(
        output_column_name="first_name",
        comparison_description="First name: exact, nickname of one another, or similar spelling",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name", term_frequency_adjustments=True),
            cll.ArrayIntersectLevel("first_name_roots", min_intersection=1).configure(
                label_for_charts="Nickname or short form of one name"
            ),
            cll.JaroWinklerLevel("first_name", 0.92),
            cll.JaroWinklerLevel("first_name", 0.80),
            cll.ElseLevel(),
        ],
    )
    last_name = _Comparison(
        output_column_name="last_name",
        comparison_description="Last name: exact, similar spelling, or one part of a double-barrelled name",
        comparison_levels=[
            cll.NullLevel("last_name"),
            cll.ExactMatchLevel("last_name", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("last_name", 0.92),
            cll.CustomLevel(
                "least(length(last_name_l), length(last_name_r)) >= 3 "
                "and (contains(last_name_l, last_name_r) or contains(last_name_r, last_name_l))",
                label_for_charts="One name contains the other (double-barrelled)",
            ),
            cll.JaroWinklerLevel("last_name", 0.80),
            cll.ElseLevel(),
        ],
    )
    birth_date = _Comparison(
        output_column_name="birth_date",
        comparison_description="Date of birth: exact, day and month swapped, or one digit off",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(
                "year(birth_date_l) = year(birth_date_r) and month(birth_date_l) = day(birth_date_r) "
                "and day(birth_date_l) = month(birth_date_r)",
                label_for_charts="Day and month swapped",
            ),
            cll.LevenshteinLevel("cast(birth_date as varchar)", distance_threshold=1).configure(
                label_for_charts="One digit off"
            ),
            cll.ElseLevel(),
        ],
    )
    # one comparison for the address: a street line and its postcode are not independent evidence
    # (counted apart, two people of one household would score the same place twice)
    address = _Comparison(
        output_column_name="address",
        comparison_description="Address: street line and postcode, postcode, postcode sector or district",
        comparison_levels=[
            cll.NullLevel("postcode"),
            cll.And(cll.ExactMatchLevel("address_line1"), cll.ExactMatchLevel("postcode")).configure(
                label_for_charts="Same street line and postcode"
            ),
            cll.ExactMatchLevel("postcode", term_frequency_adjustments=True).configure(
                label_for_charts="Same postcode"
            ),
            cll.ExactMatchLevel(ColumnExpression("postcode").regex_extract(_POSTCODE_SECTOR)).configure(
                label_for_charts="Same postcode sector"
            ),
            cll.ExactMatchLevel(ColumnExpression("postcode").regex_extract(_POSTCODE_DISTRICT)).configure(
                label_for_charts="Same postcode district"
            ),
            cll.ElseLevel(),
        ],
    )
    phone = _Comparison(
        output_column_name="phone",
        comparison_description="Phone (E.164): exact or up to two digits off",
        comparison_levels=[
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone"),
            cll.LevenshteinLevel("phone", distance_threshold=2),
            cll.ElseLevel(),
        ],
    )
    email = _Comparison(
        output_column_name="email",
        comparison_description="Canonical email: exact, same mailbox name at another domain, or one typo",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email", term_frequency_adjustments=True),
            cll.ExactMatchLevel("email_mailbox").configure(
                label_for_charts="Same mailbox name (punctuation aside), other domain"
            ),
            # a typo in the mailbox name (one in the domain is the level above), not another
            # person's numbered address (jo.smith12 / jo.smith21 is no typo); the cheap tests guard
            # damerau_levenshtein, which is slow enough to dominate u sampling if run on every pair
            cll.CustomLevel(
                "case when email_domain_l = email_domain_r and email_digits_l = email_digits_r "
                "and abs(length(email_l) - length(email_r)) <= 1 "
                "then damerau_levenshtein(email_l, email_r) <= 1 else false end",
                label_for_charts="One typo, same digits",
            ),
            # people reuse a number (a birth year, a house number) across their addresses
            cll.ExactMatchLevel("email_number").configure(label_for_charts="Same number in the mailbox name"),
            cll.ElseLevel(),
        ],
    )
    comparisons = [first_name, last_name, birth_date, address, phone, email]
    return comparisons


def _prediction_blocking_rules() -> list:
    """Pairs scored: any pair that agrees on one of these. Each is a cheap equi-join."""
    return [
        block_on("email"),
        block_on("phone"),
        block_on("email_mailbox"),
        block_on("first_name_key", "last_name"),
        block_on("last_name", "birth_date"),
        block_on("first_name_key", "birth_date"),
        block_on("postcode", "birth_date"),
        block_on("postcode", "first_name_key"),
        block_on("postcode", "last_name"),
    ]


def build_settings() -> SettingsCreator:
    """The Splink model: comparisons, blocking rules and output columns (untrained)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=_prediction_blocking_rules(),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["source_system", "anchor_identifier_type", "anchor_identifier_value"],
        em_convergence=0.0001,
        max_iterations=50,
        linker_uid="kith_person_records",
    )


def settings_document(
    link_threshold: float = DEFAULT_LINK_THRESHOLD,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Everything that defines the matcher, as JSON-ready data (the content of ``SETTINGS_PATH``)."""
    return {
        "description": (
            "Probabilistic identity matching of int_identity_person_records (kith/identity/probabilistic.py). "
            "Generated by `python -m kith.identity.probabilistic`: do not edit by hand."
        ),
        "splink_settings": build_settings().create_settings_dict("duckdb"),
        "training": {
            "min_records": MIN_RECORDS,
            "seed": seed,
            "probability_two_random_records_match": {
                "deterministic_rules": [list(rule) for rule in PRIOR_RULES],
                "assumed_recall": PRIOR_RECALL,
            },
            "u": {"method": "random sampling", "max_pairs": U_MAX_PAIRS},
            "m": {"method": "expectation maximisation", "blocking_rules": [list(rule) for rule in EM_BLOCKING_RULES]},
        },
        "thresholds": {
            "link_match_probability": link_threshold,
            "review_match_probability": review_threshold,
            "no_link_when_nothing_in_common": list(CONFLICTING_COMPARISONS),
        },
    }


def write_settings(path: Path = SETTINGS_PATH) -> Path:
    path.write_text(json.dumps(settings_document(), indent=2, sort_keys=False) + "\n")
    return path


# ----------------------------------------------------------------------------------- matching
_OUTPUT_SCHEMA = pa.schema(
    [
        ("record_id_a", pa.string()),
        ("record_id_b", pa.string()),
        ("source_system_a", pa.string()),
        ("source_system_b", pa.string()),
        ("anchor_identifier_type_a", pa.string()),
        ("anchor_identifier_value_a", pa.string()),
        ("anchor_identifier_type_b", pa.string()),
        ("anchor_identifier_value_b", pa.string()),
        ("match_weight", pa.float64()),
        ("match_probability", pa.float64()),
        ("shares_identifier", pa.bool_()),
        ("has_conflict", pa.bool_()),
        ("evidence", pa.string()),
    ]
)


def empty_matches() -> pa.Table:
    """A table of no pairs with the output schema of :func:`match_records`."""
    return _OUTPUT_SCHEMA.empty_table()


def as_duckdb_connection(session: Any) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection inside the ``session`` a dbt Python model receives.

    dbt-duckdb hands models its cursor wrapped (``DuckDBCursorWrapper``, and ``RetryableCursor``
    when retries are configured), each forwarding to ``_cursor``; Splink accepts only the
    ``DuckDBPyConnection`` itself.
    """
    connection = session
    for _ in range(5):
        if isinstance(connection, duckdb.DuckDBPyConnection):
            return connection
        connection = getattr(connection, "_cursor", None)
    raise TypeError(f"no DuckDB connection found in {type(session).__name__}")


def _nickname_rows() -> list[tuple[str, str]]:
    rows = {(name, name) for name in NICKNAMES}
    rows |= {(short, name) for name, shorts in NICKNAMES.items() for short in shorts}
    return sorted(rows)


@contextmanager
def _scratch_catalog(con: duckdb.DuckDBPyConnection) -> Iterator[str]:
    """An in-memory catalog attached to ``con`` and made its default while Splink works.

    Splink creates its tables without a schema, so they land in the default catalog: here a
    throwaway one, detached (with everything in it) on exit, whatever happens. ``USE`` changes
    only this connection, and is undone on exit too: dbt runs the thread's next models on it.
    The catalog's name is unique per call, so concurrent calls on one database do not collide.
    """
    catalog, schema = con.execute("select current_database(), current_schema()").fetchone()
    scratch = f"kith_splink_{uuid.uuid4().hex[:12]}"
    con.execute(f"attach ':memory:' as {scratch}")
    try:
        yield scratch
    finally:
        con.execute(f'use "{catalog}"."{schema}"')
        con.execute(f"detach {scratch}")


@contextmanager
def _splink_errors_only() -> Iterator[None]:
    """Splink logs each step at INFO and every unobserved level as a WARNING: while it runs, let
    only its errors through (unless this module logs at DEBUG), and summarise in one line after."""
    splink_logger = logging.getLogger("splink")
    level = splink_logger.level
    if not logger.isEnabledFor(logging.DEBUG):
        splink_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        splink_logger.setLevel(level)


def _unobserved_levels(linker: Linker) -> tuple[list[str], list[str]]:
    """Levels whose m (resp. u) could not be estimated: never seen among the EM blocks' matches
    (resp. the random pairs). Splink gives them 1e-6, so an unobserved m is evidence against."""
    no_m, no_u = [], []
    for comparison in linker._settings_obj.comparisons:
        for level in comparison._comparison_levels_excluding_null:
            name = f"{comparison.output_column_name}: {level.label_for_charts}"
            if not level._m_is_trained:
                no_m.append(name)
            if not level._u_is_trained:
                no_u.append(name)
    return no_m, no_u


def _prepare_records(con: duckdb.DuckDBPyConnection, records_table: str, scratch: str) -> None:
    """Copy the records into the scratch catalog with the derived columns the model uses."""
    con.execute(f"create table {scratch}.main.nicknames (name varchar, root varchar)")
    con.executemany(f"insert into {scratch}.main.nicknames values (?, ?)", _nickname_rows())
    con.execute(
        f"""
        create table {scratch}.main.person_records as
        with records as (
            select {", ".join(RECORD_COLUMNS)} from {records_table}
        ),
        roots as (
            select records.record_id, list_sort(list(nicknames.root)) as roots
            from records
            inner join {scratch}.main.nicknames as nicknames on records.first_name = nicknames.name
            group by 1
        )
        select
            records.*,
            case when records.first_name is not null
                then list_distinct(list_concat([records.first_name], coalesce(roots.roots, [])))
            end as first_name_roots,
            coalesce(roots.roots[1], records.first_name) as first_name_key,
            nullif(regexp_replace(regexp_extract(records.email, '^[^@]+'), '[^[:alnum:]]', '', 'g'), '')
                as email_mailbox,
            regexp_extract(records.email, '@(.*)$', 1) as email_domain,
            regexp_replace(records.email, '[^0-9]', '', 'g') as email_digits,
            nullif(regexp_extract(records.email, '([0-9]{{3,}})[^0-9@]*@', 1), '') as email_number
        from records
        left join roots on records.record_id = roots.record_id
        order by records.record_id
        """
    )


def _train(db_api: DuckDBAPI, seed: int) -> Linker:
    records = db_api.register("person_records")
    linker = Linker(records, build_settings(), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*rule) for rule in PRIOR_RULES], recall=PRIOR_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    for rule in EM_BLOCKING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    return linker


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _evidence_sql(linker: Linker) -> str:
    """JSON object of the pair's level, label and match weight per comparison.

    The weight includes the term-frequency adjustment where the comparison has one, so the
    weights add up to the pair's match weight minus the prior's.
    """
    parts = []
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        labels = " ".join(
            f"when {level.comparison_vector_value} then {_sql_string(level.label_for_charts)}"
            for level in comparison.comparison_levels
        )
        weight = f"mw_{name}" + (f" + coalesce(mw_tf_adj_{name}, 0)" if comparison._has_tf_adjustments else "")
        parts.append(
            f"'{name}', json_object('level', gamma_{name}, 'label', case gamma_{name} {labels} end, "
            f"'match_weight', round({weight}, 4))"
        )
    return f"cast(json_object({', '.join(parts)}) as varchar)"


def _scored_pairs_sql(predictions: str, evidence: str, one_per_person: Sequence[str]) -> str:
    excluded = ", ".join(_sql_string(t) for t in one_per_person) or "null"
    return f"""
        select
            record_id_l as record_id_a,
            record_id_r as record_id_b,
            source_system_l as source_system_a,
            source_system_r as source_system_b,
            anchor_identifier_type_l as anchor_identifier_type_a,
            anchor_identifier_value_l as anchor_identifier_value_a,
            anchor_identifier_type_r as anchor_identifier_type_b,
            anchor_identifier_value_r as anchor_identifier_value_b,
            round(match_weight, 6) as match_weight,
            round(match_probability, 9) as match_probability,
            coalesce(email_l = email_r, false) or coalesce(phone_l = phone_r, false) as shares_identifier,
            {" or ".join(f"gamma_{name} = 0" for name in CONFLICTING_COMPARISONS)} as has_conflict,
            {evidence} as evidence
        from {predictions}
        where not (anchor_identifier_type_l = anchor_identifier_type_r and anchor_identifier_type_l in ({excluded}))
        order by record_id_a, record_id_b
    """


def match_records(
    con: duckdb.DuckDBPyConnection,
    records_table: str,
    *,
    link_threshold: float = DEFAULT_LINK_THRESHOLD,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    seed: int = DEFAULT_SEED,
    one_per_person: Sequence[str] = (),
    model_out: Path | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Train on ``records_table`` and score its record pairs: ``(links, reviews)``.

    ``records_table`` is anything ``con`` can select from: a (qualified) table or view name, or
    a parenthesised query (a dbt Python model passes ``f"({dbt.ref(...).sql_query()})"``).

    ``links`` holds the pairs with match probability >= ``link_threshold`` and no conflict,
    ``reviews`` the others at or above ``review_threshold``; both ordered by record ids, each pair once
    (``record_id_a < record_id_b``), with the anchors of both records, the match weight and
    probability, whether they share an email or phone, whether first names or birth dates
    conflict, and the evidence: per comparison its
    level, label and match weight, as a JSON object. Deterministic for a seed. Fewer than
    ``MIN_RECORDS`` records: a warning and two empty tables.

    ``one_per_person``: anchor identifier types a person holds at most one of (identity rules
    with ``max_per_customer = 1``): a pair of two records anchored by such a type is scored
    but not returned, since the identity graph would refuse the link. ``model_out``: write the
    trained Splink model (m and u of every level) there as JSON.
    """
    if not 0 < review_threshold <= link_threshold <= 1:
        raise ValueError(f"thresholds must satisfy 0 < review ({review_threshold}) <= link ({link_threshold}) <= 1")
    columns = {row[0] for row in con.execute(f"describe select * from {records_table}").fetchall()}
    missing = [c for c in RECORD_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"{records_table} lacks the columns {', '.join(missing)}")
    n_records = con.execute(f"select count(*) from {records_table}").fetchone()[0]
    if n_records < MIN_RECORDS:
        logger.warning(
            "probabilistic matching skipped: %d person records, at least %d needed to estimate m and u; "
            "no pairs returned",
            n_records,
            MIN_RECORDS,
        )
        return empty_matches(), empty_matches()

    with _scratch_catalog(con) as scratch, _splink_errors_only():
        _prepare_records(con, records_table, scratch)
        con.execute(f"use {scratch}.main")
        db_api = DuckDBAPI(connection=con)
        try:
            linker = _train(db_api, seed)
        except ValueError as err:
            # EM can drive a level's m or u to exactly 0, which Splink refuses to store: the data
            # cannot support the model. Skip matching (identity stays deterministic) and say why.
            if "probability value" not in str(err):
                raise
            logger.warning("probabilistic matching skipped: the model could not be estimated (%s)", err)
            return empty_matches(), empty_matches()
        if model_out is not None:
            linker.misc.save_model_to_json(str(model_out), overwrite=True)
        no_m, no_u = _unobserved_levels(linker)
        if no_m or no_u:
            logger.info(
                "levels not observed, their probability set to 1e-6: m of %s; u of %s",
                "; ".join(no_m) or "none",
                "; ".join(no_u) or "none",
            )
        predictions = linker.inference.predict(threshold_match_probability=review_threshold, warning_mode="never")
        scored = con.sql(
            _scored_pairs_sql(predictions.physical_name, _evidence_sql(linker), one_per_person)
        ).to_arrow_table()
    scored = scored.cast(_OUTPUT_SCHEMA)
    is_link = pc.and_(pc.greater_equal(scored["match_probability"], link_threshold), pc.invert(scored["has_conflict"]))
    links = scored.filter(is_link)
    reviews = scored.filter(pc.invert(is_link))
    logger.info(
        "probabilistic matching: %d records, %d links, %d pairs for review", n_records, len(links), len(reviews)
    )
    return links, reviews


def trained_levels(model: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten a saved Splink model into one dict per comparison level (for audits and tests)."""
    out = []
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            out.append(
                {
                    "comparison": comparison["output_column_name"],
                    "label": level.get("label_for_charts"),
                    "m_probability": level.get("m_probability"),
                    "u_probability": level.get("u_probability"),
                }
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kith.identity.probabilistic",
        description="Write the probabilistic matching settings (Splink model, training plan, thresholds) as JSON.",
    )
    parser.add_argument("--out", type=Path, default=SETTINGS_PATH, help="where to write (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        path = write_settings(args.out)
    except OSError as err:
        print(f"error: cannot write {args.out}: {err.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
