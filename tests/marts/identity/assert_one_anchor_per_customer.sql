-- Every customer has exactly one anchor identifier (the one its id was derived from).
select
    customer_id,
    count(*) filter (where is_anchor) as anchors
from {{ ref('dim_customer_identifiers') }}
group by 1
having count(*) filter (where is_anchor) <> 1
