# Kith: the two commands are `make demo` and `make test`; both set up .venv when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-slow test-spark spark-setup lint pytest structure bench-ingest lock clean browser duckdb-compat

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found: Kith needs Python 3.11"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: setup
	$(BIN)/kith demo

test: setup browser duckdb-compat lint structure pytest

# Debian's chromium for the catalog's browser test (tests/catalog; Playwright's own download is not
# used). CI runs as root; elsewhere sudo is used when there is one.
browser:
	@test -x /usr/bin/chromium || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

# DuckDB 1.4 with SQLAlchemy and duckdb-engine (what BI tools bundle) beside the venv: tests/bi prove
# that they read the published file.
COMPAT := $(VENV)/duckdb-1.4
duckdb-compat: $(COMPAT)/.installed

$(COMPAT)/.installed: tests/bi/requirements-duckdb14.txt | $(STAMP)
	rm -rf $(COMPAT)
	$(BIN)/python -m pip install --quiet --no-warn-conflicts --require-hashes --target $(COMPAT) -r $<
	@touch $@

# The dbt templater compiles models; an in-memory warehouse keeps it off the real (maybe locked) file.
lint: setup
	$(BIN)/ruff check .
	KITH_WAREHOUSE=:memory: $(BIN)/sqlfluff lint models analyses snapshots

# The dbt project evaluator's rules, checked on the manifest of a fresh parse.
structure: setup
	KITH_WAREHOUSE=:memory: $(BIN)/dbt parse --quiet --project-dir . --profiles-dir . --target-path target/structure
	$(BIN)/python -m kith.checks.structure target/structure/manifest.json

# the slow fault-injection suite (SIGKILL at more points, every system, dbt build killed): ~10 minutes
test-slow: setup
	KITH_SLOW_TESTS=1 $(BIN)/pytest -q tests/reliability/test_slow.py

# The spark target (docs/spark.md) in its own environment: the main lock plus dbt-spark[session] and
# PySpark (requirements-spark.lock); Java 17 runs Spark in process (local[2], nothing downloaded).
# The lane builds the `spark_ready` selection (everything but snapshots) on the test sample and
# compares it with DuckDB.
SPARK_VENV := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed

spark-setup: $(SPARK_STAMP)

$(SPARK_STAMP): requirements.lock requirements-spark.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found: Kith needs Python 3.11"; exit 2; }
	@command -v java >/dev/null || { echo "make: java not found: the spark target needs Java 17 (openjdk-17-jre-headless)"; exit 2; }
	@test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(SPARK_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements.lock
	$(SPARK_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements-spark.lock
	$(SPARK_VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

test-spark: spark-setup
	KITH_SPARK_TESTS=1 $(SPARK_VENV)/bin/pytest -q tests/spark

# The suite runs on both cores (pytest-xdist). `loadscope` keeps a module's tests on one worker, so
# its module fixtures (the incremental and stable-id builds) run once; each worker builds its own
# shared sample. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
pytest: setup
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadscope --durations=25

bench-ingest: setup
	$(BIN)/python benchmarks/ingest_benchmark.py --customers 100000

# Regenerate the fully pinned, hashed lock from pyproject.toml (needs the package index).
lock: setup
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe \
		-o requirements.lock pyproject.toml
	sed -i '/^--extra-index-url/d;/^--index-url/d;/^--find-links/d' requirements.lock

clean:
	rm -rf target logs data reports .pytest_cache .ruff_cache
