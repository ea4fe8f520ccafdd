"""How people and systems mangle identifiers: e-mail, phone and name variants, junk values."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from random import Random

from kith.generate.vocab import DOMAIN_TYPOS, JUNK_EMAILS, JUNK_PHONES

PHONE_FORMATS = 9


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """ASCII transliteration: accents dropped (Zoë -> Zoe)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


@lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """Lower-case letters only, as used in e-mail local parts (O'Brien -> obrien)."""
    return "".join(ch for ch in fold(text).lower() if ch.isalpha())


def email_local(first: str, last: str, number: int, r: Random) -> str:
    f, la = slug(first), slug(last)
    pattern = r.random()
    if pattern < 0.35:
        base = f"{f}.{la}"
    elif pattern < 0.55:
        base = f"{f}{la}"
    elif pattern < 0.7:
        base = f"{f[0]}.{la}"
    elif pattern < 0.8:
        base = f"{f}_{la}"
    elif pattern < 0.9:
        base = f"{la}.{f}"
    else:
        base = f"{f}{la[0]}"
    return f"{base}{number}"


def shouty(email: str, r: Random) -> str:
    """Case and whitespace as typed: ' Jane.Doe12@Gmail.com '."""
    local, _, domain = email.partition("@")
    x = r.random()
    if x < 0.4:
        local = ".".join(p[:1].upper() + p[1:] for p in local.split("."))
        domain = domain[:1].upper() + domain[1:]
    elif x < 0.6:
        local, domain = local.upper(), domain.upper()
    elif x < 0.8:
        local = local[:1].upper() + local[1:]
    text = f"{local}@{domain}"
    y = r.random()
    if y < 0.4:
        return f" {text} "
    if y < 0.6:
        return f"{text} "
    if y < 0.7:
        return f"\t{text}"
    return text


def maybe_shouty(email: str | None, r: Random, p: float = 0.03) -> str | None:
    if email and r.random() < p:
        return shouty(email, r)
    return email


def typo(email: str, r: Random) -> str:
    local, _, domain = email.partition("@")
    options = DOMAIN_TYPOS.get(domain)
    if options and r.random() < 0.7:
        return f"{local}@{r.choice(options)}"
    letters = [i for i in range(len(local) - 1) if local[i].isalpha() and local[i + 1].isalpha()]
    if not letters:
        return f"{local}@{domain}".replace(".", "", 1) if "." in local else f"{local}{local[-1]}@{domain}"
    i = r.choice(letters)
    return f"{local[:i]}{local[i + 1]}{local[i]}{local[i + 2 :]}@{domain}"


def gmail_variant(email: str, tag: str, r: Random) -> str:
    """An alias gmail delivers to the same mailbox: +tag, dots dropped, or googlemail.com."""
    local, _, domain = email.partition("@")
    if domain not in ("gmail.com", "googlemail.com"):
        return email
    x = r.random()
    if x < 0.5:
        return f"{local}+{tag}@{domain}"
    if x < 0.8 and "." in local:
        return f"{local.replace('.', '')}@{domain}"
    return f"{local}@{'googlemail.com' if domain == 'gmail.com' else 'gmail.com'}"


def junk_email(r: Random) -> str | None:
    v = r.choice(JUNK_EMAILS)
    return v or None


def junk_phone(r: Random) -> str | None:
    v = r.choice(JUNK_PHONES)
    return v or None


def phone(national: str, fmt: int) -> str:
    """A UK number (10 digits after the trunk 0) written in one of many formats."""
    n = national
    if fmt == 0:
        return f"0{n[:4]} {n[4:]}"
    if fmt == 1:
        return f"0{n}"
    if fmt == 2:
        return f"+44 {n[:4]} {n[4:]}"
    if fmt == 3:
        return f"+44{n}"
    if fmt == 4:
        return f"44{n}"
    if fmt == 5:
        return f"(0{n[:4]}) {n[4:7]}-{n[7:]}"
    if fmt == 6:
        return f"0044 {n[:4]} {n[4:7]} {n[7:]}"
    if fmt == 7:
        return f"0{n[:4]}-{n[4:7]}-{n[7:]}"
    return f"+44 (0){n[:4]} {n[4:]}"


def typed_phone(national: str, r: Random) -> str:
    return phone(national, r.randrange(PHONE_FORMATS))


def name_as_typed(name: str, r: Random, p: float = 0.12) -> str:
    """A name as a person or clerk typed it: lower/upper case, accents lost, stray spaces."""
    x = r.random()
    if x >= p:
        return name
    x /= p
    if x < 0.3:
        return name.lower()
    if x < 0.5:
        return name.upper()
    if x < 0.75:
        return fold(name)
    if x < 0.9:
        return f" {name}"
    return name.replace("-", " ").replace("'", "") + " "


def postcode_as_typed(postcode: str, r: Random, p: float = 0.1) -> str:
    x = r.random()
    if x >= p:
        return postcode
    x /= p
    if x < 0.4:
        return postcode.replace(" ", "")
    if x < 0.8:
        return postcode.lower()
    return f" {postcode}"
