"""A BI tool stand-in: reads the publication over and over until told to stop.

    python published_reader.py PUBLISH_DIR STOP_FILE OUT_FILE

Each pass opens the published DuckDB file read-only (a new connection, as a dashboard refresh would)
and counts every mart, and resolves the ``parquet`` link once and counts every Parquet file in it. It
writes one JSON line per read: what it counted and what the publication says it holds (the file's
``_publication`` table, the Parquet folder's ``manifest.json``), or the error it met.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import duckdb


def read_duckdb(publish_dir: Path) -> dict:
    con = duckdb.connect(str(publish_dir / "kith_marts.duckdb"), read_only=True)
    try:
        stated = dict(con.execute("select mart, row_count from _publication").fetchall())
        (version,) = con.execute("select any_value(version) from _publication").fetchone()
        counted = {mart: con.execute(f'select count(*) from "{mart}"').fetchone()[0] for mart in stated}
    finally:
        con.close()
    return {"kind": "duckdb", "version": version, "stated": stated, "counted": counted}


def read_parquet(publish_dir: Path) -> dict:
    folder = Path(os.path.realpath(publish_dir / "parquet"))  # one version for the whole read
    manifest = json.loads((folder / "manifest.json").read_text())
    stated = {mart: entry["rows"] for mart, entry in manifest["marts"].items()}
    con = duckdb.connect()
    try:
        counted = {
            mart: con.execute("select count(*) from read_parquet(?)", [str(folder / f"{mart}.parquet")]).fetchone()[0]
            for mart in stated
        }
    finally:
        con.close()
    return {"kind": "parquet", "version": manifest["version"], "stated": stated, "counted": counted}


def main(publish_dir: Path, stop_file: Path, out_file: Path) -> None:
    with out_file.open("w") as out:
        while not stop_file.exists():
            for read in (read_duckdb, read_parquet):
                try:
                    record = read(publish_dir)
                except Exception as exc:
                    record = {"kind": "error", "reader": read.__name__, "error": f"{type(exc).__name__}: {exc}"}
                record["at"] = time.time()
                out.write(json.dumps(record) + "\n")
                out.flush()
            time.sleep(0.01)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
