"""Activation (reverse ETL): audiences from the warehouse to the tools teams use, as diffs, with consent.

- :mod:`~pipelines.activation.config`: ``activation.yml`` (destinations, consent they require, where
  audiences go, control-group shares).
- :mod:`~pipelines.activation.plan`: audiences, control groups, consent filter and the diff, in SQL.
- :mod:`~pipelines.activation.state`: the ``activation`` schema (state, outbox, history, assignments).
- :mod:`~pipelines.activation.destinations`: files, HTTP and database destinations on dlt.
- :mod:`~pipelines.activation.sync`: one sync end to end (:func:`activate`).
- :mod:`~pipelines.activation.campaign`: treated versus control after a campaign.
"""
