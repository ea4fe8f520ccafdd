"""The activation configuration (``activation.yml``): destinations, what each needs, where audiences go.

Secrets never live in the file: a setting ending in ``_env`` names the environment variable that holds
the value (a webhook URL, a token, a database URL), read only when that destination is synced. A
destination whose variables are not set is skipped ("not configured"), so one missing secret never
stops the other destinations.

Every mistake in the file is a :class:`~kith.config.UserError` naming the file, the destination and
the setting.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kith.config import PROJECT_DIR, UserError

DEFAULT_CONFIG = PROJECT_DIR / "activation.yml"
CONFIG_ENV = "KITH_ACTIVATION_CONFIG"

KINDS = ("file", "http", "database")
CHANNELS = ("email", "sms", "push", "ads", "phone")
PURPOSES = ("marketing", "analytics", "profiling", "personalisation")
# The destination keys every audience carries (normalised by the audience models).
IDENTIFIERS = ("email", "phone_e164")
# What an ad platform gets instead of the raw identifier: SHA-256 of the normalised value.
HASHED_NAMES = {"email": "email_sha256", "phone_e164": "phone_sha256"}
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SECRET_WORDS = ("token", "password", "secret", "api_key", "apikey", "credentials", "url")

_COMMON_KEYS = {
    "name",
    "kind",
    "consent",
    "identifiers",
    "hash_identifiers",
    "attributes",
    "audiences",
    "timeout_seconds",
}
# kind -> {setting: default}; None = required
_KIND_SETTINGS: dict[str, dict[str, Any]] = {
    "file": {"format": "csv", "path": None},
    "http": {
        "url_env": None,
        "token_env": "",
        "batch_size": 500,
        "max_retries": 5,
        "backoff_seconds": 1.0,
        "max_backoff_seconds": 30.0,
        "requests_per_second": 0.0,
        "request_timeout_seconds": 30.0,
    },
    "database": {"url_env": None, "dataset": "", "table_prefix": "aud_"},
}
_FILE_FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class Consent:
    """A consent a destination requires: granted for this channel and purpose at the time of the sync."""

    channel: str
    purpose: str

    def __str__(self) -> str:
        return f"{self.channel}/{self.purpose}"


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    consents: tuple[Consent, ...]  # empty: operational destination, no consent required
    identifiers: tuple[str, ...]  # which destination keys it takes; a member needs at least one
    hash_identifiers: bool  # ad platforms: SHA-256 of the normalised values, never the raw ones
    attributes: tuple[str, ...] | None  # extra audience columns sent; None = all of them
    audiences: tuple[str, ...] | None  # None = every audience (marts.aud_*)
    timeout_seconds: float  # the whole destination, every audience, retries included
    settings: Mapping[str, Any] = field(default_factory=dict)

    def takes(self, audience: str) -> bool:
        return self.audiences is None or audience in self.audiences

    def env(self, setting: str) -> str | None:
        """The value of the environment variable a ``*_env`` setting names (None if unset or empty)."""
        variable = self.settings.get(setting)
        return (os.environ.get(variable) or None) if variable else None

    def missing_env(self) -> list[str]:
        """Named environment variables that are not set: the destination is not configured."""
        return [v for s, v in self.settings.items() if s.endswith("_env") and v and not os.environ.get(v)]

    def payload_identifier(self, identifier: str) -> str:
        return HASHED_NAMES[identifier] if self.hash_identifiers else identifier


@dataclass(frozen=True)
class AudienceSettings:
    control_share: float = 0.0  # held out at random, stable per customer, never sent


@dataclass(frozen=True)
class ActivationConfig:
    path: Path
    consent_periods: str
    audience_defaults: AudienceSettings
    audiences: Mapping[str, AudienceSettings]
    destinations: tuple[Destination, ...]

    def audience(self, name: str) -> AudienceSettings:
        return self.audiences.get(name, self.audience_defaults)

    def destination(self, name: str) -> Destination:
        for d in self.destinations:
            if d.name == name:
                return d
        known = ", ".join(d.name for d in self.destinations)
        raise UserError(f"unknown destination {name!r} (in {self.path.name}: {known})")


def config_path(explicit: str | Path | None = None) -> Path:
    """The config file: an explicit path, else $KITH_ACTIVATION_CONFIG, else activation.yml in the project."""
    chosen = explicit or os.environ.get(CONFIG_ENV)
    return Path(chosen).expanduser().resolve() if chosen else DEFAULT_CONFIG


def load_config(path: str | Path | None = None) -> ActivationConfig:
    """Read and validate the activation config; every mistake is a one-line :class:`UserError`."""
    path = config_path(path)
    if not path.is_file():
        raise UserError(f"activation config {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UserError(f"{path.name}: not valid YAML{where}") from None
    return parse_config(raw, path)


def parse_config(raw: Any, path: Path) -> ActivationConfig:
    where = path.name
    _mapping(raw, where)
    _no_unknown(raw, {"consent_periods", "audiences", "destinations"}, where)
    consent_periods = raw.get("consent_periods", "marts.fct_customer_consent_periods")
    if not isinstance(consent_periods, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", consent_periods):
        raise UserError(f"{where}: consent_periods must be schema.table, not {consent_periods!r}")

    audiences_raw = raw.get("audiences") or {}
    _mapping(audiences_raw, f"{where}: audiences")
    defaults = _audience_settings(audiences_raw.get("default") or {}, f"{where}: audiences.default")
    audiences = {
        name: _audience_settings(value or {}, f"{where}: audiences.{name}", defaults)
        for name, value in audiences_raw.items()
        if name != "default" and _name(name, f"{where}: audiences")
    }

    destinations_raw = raw.get("destinations")
    if not isinstance(destinations_raw, list) or not destinations_raw:
        raise UserError(f"{where}: destinations must be a non-empty list")
    destinations = tuple(_destination(d, i, where) for i, d in enumerate(destinations_raw))
    names = [d.name for d in destinations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError(f"{where}: destination names must be unique: {', '.join(duplicates)}")
    return ActivationConfig(path, consent_periods, defaults, audiences, destinations)


def _audience_settings(raw: Any, where: str, defaults: AudienceSettings | None = None) -> AudienceSettings:
    _mapping(raw, where)
    _no_unknown(raw, {"control_share"}, where)
    share = raw.get("control_share", defaults.control_share if defaults else 0.0)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
        raise UserError(f"{where}: control_share must be a number from 0 to below 1, not {share!r}")
    return AudienceSettings(control_share=float(share))


def _destination(raw: Any, index: int, file: str) -> Destination:
    _mapping(raw, f"{file}: destinations[{index}]")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise UserError(f"{file}: destinations[{index}]: name must be lowercase letters, digits and _, not {name!r}")
    where = f"{file}: destination {name}"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise UserError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    defaults = _KIND_SETTINGS[kind]
    for key in raw:
        if key not in _COMMON_KEYS and key not in defaults:
            if any(word in key.lower() for word in SECRET_WORDS) and not key.endswith("_env"):
                raise UserError(
                    f"{where}: {key!r}: secrets and endpoints never live in this file; name the environment "
                    f"variable that holds it (e.g. {key}_env: KITH_{name.upper()}_{key.upper()})"
                )
            raise UserError(f"{where}: unknown setting {key!r} for kind {kind} ({', '.join(sorted(defaults))})")
    settings: dict[str, Any] = {}
    for key, default in defaults.items():
        value = raw.get(key, default)
        if value is None:
            raise UserError(f"{where}: {key} is required for kind {kind}")
        if default is not None and not isinstance(value, type(default)) and not _is_number_for(default, value):
            raise UserError(f"{where}: {key} must be a {type(default).__name__}, not {value!r}")
        if key.endswith("_env") and value and not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
            raise UserError(f"{where}: {key} names an environment variable (like KITH_X_URL), not {value!r}")
        settings[key] = float(value) if isinstance(default, float) else value
    if kind == "file":
        if settings["format"] not in _FILE_FORMATS:
            raise UserError(f"{where}: format must be one of {', '.join(_FILE_FORMATS)}, not {settings['format']!r}")
        if not NAME_PATTERN.match(settings["path"].rstrip("/").rpartition("/")[2]):
            raise UserError(f"{where}: path must end in a folder named with lowercase letters, digits and _")
    if kind == "http":
        for key in ("batch_size", "max_retries"):
            if settings[key] < (1 if key == "batch_size" else 0):
                raise UserError(f"{where}: {key} must be at least {1 if key == 'batch_size' else 0}")
        for key in ("backoff_seconds", "max_backoff_seconds", "requests_per_second", "request_timeout_seconds"):
            if settings[key] < 0 or (key == "request_timeout_seconds" and settings[key] == 0):
                raise UserError(f"{where}: {key} must be positive")

    identifiers = tuple(_list(raw.get("identifiers", list(IDENTIFIERS)), f"{where}: identifiers"))
    unknown = [i for i in identifiers if i not in IDENTIFIERS]
    if unknown or not identifiers:
        raise UserError(f"{where}: identifiers must be some of {', '.join(IDENTIFIERS)}, not {identifiers!r}")
    hash_identifiers = raw.get("hash_identifiers", False)
    if not isinstance(hash_identifiers, bool):
        raise UserError(f"{where}: hash_identifiers must be true or false")
    attributes = raw.get("attributes", "all")
    attributes = None if attributes == "all" else tuple(_list(attributes, f"{where}: attributes"))
    audiences = raw.get("audiences", "all")
    audiences = None if audiences == "all" else tuple(_list(audiences, f"{where}: audiences"))
    for audience in audiences or ():
        _name(audience, f"{where}: audiences")
    timeout = raw.get("timeout_seconds", 900)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise UserError(f"{where}: timeout_seconds must be a positive number")
    return Destination(
        name=name,
        kind=kind,
        consents=_consents(raw.get("consent", "missing"), where),
        identifiers=identifiers,
        hash_identifiers=hash_identifiers,
        attributes=attributes,
        audiences=audiences,
        timeout_seconds=float(timeout),
        settings=settings,
    )


def _consents(raw: Any, where: str) -> tuple[Consent, ...]:
    """`consent: none` (operational), one {channel, purpose}, or a list of them (all required)."""
    if raw == "missing":
        raise UserError(
            f"{where}: consent is required: {{channel: ..., purpose: ...}}, a list of them, or none "
            "(operational destinations only)"
        )
    if raw is None:
        raise UserError(f"{where}: consent is empty; write `consent: none` for an operational destination")
    if raw == "none":
        return ()
    items = raw if isinstance(raw, list) else [raw]
    consents = []
    for item in items:
        if not isinstance(item, dict) or set(item) != {"channel", "purpose"}:
            raise UserError(f"{where}: consent entries are {{channel: ..., purpose: ...}}, not {item!r}")
        if item["channel"] not in CHANNELS:
            raise UserError(f"{where}: consent channel must be one of {', '.join(CHANNELS)}, not {item['channel']!r}")
        if item["purpose"] not in PURPOSES:
            raise UserError(f"{where}: consent purpose must be one of {', '.join(PURPOSES)}, not {item['purpose']!r}")
        consents.append(Consent(item["channel"], item["purpose"]))
    if not consents:
        raise UserError(f"{where}: consent: an empty list; write `consent: none` for an operational destination")
    return tuple(consents)


def _is_number_for(default: Any, value: Any) -> bool:
    return isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool)


def _mapping(raw: Any, where: str) -> None:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a mapping of settings, not {type(raw).__name__}")


def _no_unknown(raw: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise UserError(f"{where}: unknown setting {unknown[0]!r} ({', '.join(sorted(allowed))})")


def _list(raw: Any, where: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise UserError(f"{where}: expected a list of names (or `all`), not {raw!r}")
    return raw


def _name(name: Any, where: str) -> bool:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise UserError(f"{where}: {name!r} is not a valid name (lowercase letters, digits and _)")
    return True
