"""Kith: an open, warehouse-native customer data platform (dbt on DuckDB)."""

__version__ = "0.1.0"
