"""Identity resolution logic that the dbt Python models call (pure, pytest-tested)."""
