"""One module per source system; each declares the landing contract of its entities."""

from importlib import import_module

from pipelines.landing import Entity

SYSTEMS = ("web", "app", "shop", "pos", "payments", "helpdesk", "crm", "loyalty", "erp", "consent", "qr")


def entities(system: str) -> tuple[Entity, ...]:
    if system not in SYSTEMS:
        raise ValueError(f"unknown source system {system!r}; known: {', '.join(SYSTEMS)}")
    return import_module(f"pipelines.sources.{system}").ENTITIES
