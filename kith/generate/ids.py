"""Deterministic identifiers.

Keys of records (orders, transactions, tickets ...) are bijective scrambles of (person index,
per-person counter): unique by construction, random-looking, and independent of chunking.
Event ids and cookies are uuid-shaped strings drawn from the person's seeded RNG.
"""

from __future__ import annotations

from math import gcd
from random import Random

_ALPHABET36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALPHABET62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def scramble(x: int, bits: int, salt: int) -> int:
    """A bijection on [0, 2**bits): distinct inputs give distinct, random-looking outputs."""
    mask = (1 << bits) - 1
    half = bits // 2
    x = (x * 0x9E3779B97F4A7C15 + salt) & mask
    x ^= x >> half
    x = (x * 0xBF58476D1CE4E5B9) & mask
    x ^= x >> (half - 3)
    return x


def base36(x: int, width: int) -> str:
    out = []
    for _ in range(width):
        x, d = divmod(x, 36)
        out.append(_ALPHABET36[d])
    return "".join(reversed(out))


def base62(x: int, width: int) -> str:
    out = []
    for _ in range(width):
        x, d = divmod(x, 62)
        out.append(_ALPHABET62[d])
    return "".join(reversed(out))


def uuid_like(r: Random) -> str:
    """A version-4 shaped uuid drawn from a seeded RNG (never from the OS)."""
    h = f"{r.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def rint(r: Random, a: int, b: int) -> int:
    """Like r.randint(a, b) but several times faster (one float draw)."""
    return a + int(r.random() * (b - a + 1))


def below(r: Random, n: int) -> int:
    """Like r.randrange(n), one float draw."""
    return int(r.random() * n)


def hex_id(r: Random, digits: int) -> str:
    return f"{r.getrandbits(4 * digits):0{digits}x}"


class Permutation:
    """A bijection of [0, n): short unique numbers per person (e-mail suffixes, phone numbers)."""

    def __init__(self, n: int, multiplier: int, offset: int) -> None:
        self.n = n
        m = multiplier % n if n > 1 else 1
        while n > 1 and gcd(m, n) != 1:
            m += 1
        self._m = m
        self._o = offset % n if n > 1 else 0

    def __call__(self, i: int) -> int:
        return (i * self._m + self._o) % self.n
