"""Terminal output shared by every ``kith`` command: results on stdout, progress and errors on stderr."""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from datetime import date

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal:  # CI logs and pipes: do not squeeze tables into 80 columns
    out = Console(highlight=False, soft_wrap=True, width=160)


@contextmanager
def progress_bar():
    """A progress bar on a terminal; on a pipe (CI), a line per task when it finishes."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as progress:
        tasks: dict[str, int] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=max(total, 1))
            progress.update(tasks[label], completed=done, total=max(total, 1))
            if not console.is_terminal and done >= total:
                console.print(f"  {label}: {done}/{total}")

        yield update


def parse_date(value: str) -> date:
    """argparse type: an ISO date."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse_positive(value: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return n
