"""dim_customer_traits measures the behaviours the sample generator gave each person.

The generator's ground truth (`persons.csv`: price sensitivity, returner, channel preference,
favourite brands, profile) is never ingested, so it is an independent check that each trait
measures what its name says on realistic data. The exact arithmetic of every trait is proven by
the dbt unit tests in `models/marts/traits/_traits__models.yml`; these tests only compare groups
of persons, with margins far wider than the sampling noise of 300 customers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from statistics import mean

import duckdb
import pytest

from tests.conftest import Sample

# traits of the customers that identity resolution maps to exactly one generated person
TRAITS_WITH_TRUTH = """
with

truth_identifiers as (
    select * from read_csv(?, all_varchar = true)
),

persons as (
    select * from read_csv(?, all_varchar = true)
),

customer_persons as (
    select
        dim_customer_identifiers.customer_id,
        min(truth_identifiers.person_id) as person_id
    from marts.dim_customer_identifiers
    inner join truth_identifiers
        on
            dim_customer_identifiers.identifier_type = truth_identifiers.identifier_type
            and dim_customer_identifiers.identifier_value = truth_identifiers.identifier_value
    group by 1
    having count(distinct truth_identifiers.person_id) = 1
)

select
    traits.*,
    persons.profile,
    persons.channel_preference,
    persons.price_sensitivity,
    persons.is_returner = 'true' as is_returner,
    coalesce(persons.favourite_brands, '') as favourite_brands
from marts.dim_customer_traits as traits
inner join customer_persons
    on traits.customer_id = customer_persons.customer_id
inner join persons
    on customer_persons.person_id = persons.person_id
"""

Row = dict[str, object]


@pytest.fixture(scope="module")
def traits(built_sample: Sample) -> list[Row]:
    """Every trait row joined to its person's ground truth (read-only; closed before returning)."""
    with duckdb.connect(str(built_sample.warehouse), read_only=True) as con:
        cursor = con.execute(
            TRAITS_WITH_TRUTH,
            [str(built_sample.truth / "identifiers.csv"), str(built_sample.truth / "persons.csv")],
        )
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    assert len(rows) > 200, "too few customers map to one person: the sample or identity changed"
    return rows


def _mean_of(rows: Iterable[Row], column: str, where: Callable[[Row], bool]) -> float:
    values = [float(row[column]) for row in rows if where(row) and row[column] is not None]
    assert len(values) >= 10, f"fewer than 10 customers to average {column} over"
    return mean(values)


def test_bargain_hunters_pay_full_price_less_and_get_more_off(traits: list[Row]) -> None:
    buyers = [row for row in traits if row["order_count"] > 0]
    bargain_full_price = _mean_of(buyers, "full_price_spend_share", lambda r: r["price_sensitivity"] == "bargain")
    full_price_full_price = _mean_of(buyers, "full_price_spend_share", lambda r: r["price_sensitivity"] == "full_price")
    bargain_discount = _mean_of(buyers, "average_discount_rate", lambda r: r["price_sensitivity"] == "bargain")
    full_price_discount = _mean_of(buyers, "average_discount_rate", lambda r: r["price_sensitivity"] == "full_price")

    assert bargain_full_price < full_price_full_price - 0.1
    assert bargain_discount > full_price_discount + 0.05


def test_returners_have_a_much_higher_return_rate(traits: list[Row]) -> None:
    buyers = [row for row in traits if row["order_count"] > 0]
    returners = _mean_of(buyers, "return_rate", lambda r: r["is_returner"])
    others = _mean_of(buyers, "return_rate", lambda r: not r["is_returner"])

    assert returners > 3 * others


def test_online_to_offline_shoppers_are_omnichannel_people(traits: list[Row]) -> None:
    buyers = [row for row in traits if row["order_count"] > 0]
    online_only = [row for row in buyers if row["channel_preference"] == "online"]
    omni_share = _mean_of(buyers, "is_online_to_offline_shopper", lambda r: r["channel_preference"] == "omni")
    store_share = _mean_of(buyers, "is_online_to_offline_shopper", lambda r: r["channel_preference"] == "store")

    assert online_only, "the sample has no online-only buyers"
    assert not any(row["is_online_to_offline_shopper"] for row in online_only)
    assert omni_share > 0.1
    assert omni_share > 3 * store_share


def test_favourite_brand_is_one_the_person_favours(traits: list[Row]) -> None:
    loyal = [row for row in traits if row["order_count"] >= 3 and row["favourite_brands"]]
    hits = [row["favourite_brand"] in str(row["favourite_brands"]).split(";") for row in loyal]

    assert len(hits) >= 10
    assert mean(hits) > 0.7


def test_frequent_shoppers_visit_most_often(traits: list[Row]) -> None:
    by_profile = {
        profile: _mean_of(traits, "visit_days_per_30_days", lambda r, p=profile: r["profile"] == p)
        for profile in ("frequent", "regular", "churner", "one_off")
    }

    assert max(by_profile, key=by_profile.__getitem__) == "frequent"
    assert by_profile["frequent"] > 1.5 * by_profile["regular"]
    assert by_profile["regular"] > 1.5 * by_profile["one_off"]
