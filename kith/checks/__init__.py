"""Governance checks that read dbt artefacts (manifest.json, catalog.json), not the warehouse."""
