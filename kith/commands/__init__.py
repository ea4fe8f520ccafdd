"""Subcommands beyond the core four, one module each.

Every module in this package that defines ``register(subparsers)`` is added to the ``kith`` parser
(discovered, so that a new command is one new file). ``register`` adds a subparser and sets
``func`` to a ``(args, paths) -> exit code`` function; heavy imports belong inside that function so
that ``kith --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil


def register_all(subparsers: argparse._SubParsersAction) -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        register = getattr(loaded, "register", None)
        if register is not None:
            register(subparsers)
