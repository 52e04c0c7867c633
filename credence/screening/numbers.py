"""A vectorised fast path for canonical resident IDs, for the gate's manifest screening.

``parse_subject`` costs several microseconds an entry; a train's manifest has up to 100,000.
``person_keys`` decides, with numpy over the whole batch, which entries are already canonical
18-character resident IDs that ``parse_subject`` would accept unchanged, and gives their keys.

Invariant: ``decided[i]`` is True only when ``parse_subject(values[i])`` returns a
``ResidentId`` whose ``.number == values[i]``. Anything else (15-digit IDs, lowercase ``x``,
spaces, non-ASCII, organisations, errors) is left undecided for the caller's exact slow path,
which also owns the precise error message. The rules mirror
``credence.model.identifiers.parse_resident_id``: ASCII digits, ISO 7064 MOD 11-2 check
character, a birth date ``datetime.date`` accepts (years 0001-9999, no future check), and an
address code ``address_ever_assigned`` accepts.
"""

from collections.abc import Sequence
from functools import cache
from itertools import compress

import numpy as np
from stdnum import numdb

from credence.model.identifiers import address_ever_assigned

# ISO 7064 MOD 11-2 weights 2**(17-i) mod 11 for the 17 body digits.
_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int32)
# The check character for each weighted sum mod 11, as an ASCII byte ('X' stands for 10).
_CHECK_BYTES = np.frombuffer(b"10X98765432", dtype=np.uint8)
# int(number[:17]) < 10**17 fits int64; its halves fit int32, whose arithmetic is cheaper
_HIGH_POWERS = 10 ** np.arange(8, -1, -1, dtype=np.int32)
_LOW_POWERS = 10 ** np.arange(7, -1, -1, dtype=np.int32)
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def _candidates(prefixes: list, prefix: str, found: set[str]) -> None:  # type: ignore[type-arg]
    # numdb's PrefixInfo tuples are untyped in stdnum: (length, low, high, props, children)
    for length, low, high, props, children in prefixes:
        for value in range(int(low), int(high) + 1):
            head = prefix + f"{value:0{length}d}"
            if len(head) > 6:
                continue
            if "county" in props:
                rest = 6 - len(head)
                found.update(head + f"{tail:0{rest}d}" if rest else head for tail in range(10**rest))
            _candidates(children, head, found)


@cache
def assigned_table() -> np.ndarray:
    """A boolean table over 000000..999999: True where ``address_ever_assigned`` accepts.

    Every accepted code has a numdb level carrying ``county``, so walking the tree's county
    nodes gives a superset; each candidate is then confirmed by the model's own function, so
    the table cannot disagree with it (a test also compares the two on random codes).
    """
    found: set[str] = set()
    _candidates(numdb.get("cn/loc").prefixes, "", found)
    table = np.zeros(1_000_000, dtype=bool)
    table[[int(code) for code in found if address_ever_assigned(code)]] = True
    return table


def person_key(number: str) -> int:
    """The key of one canonical resident ID: its 17 body digits as an integer (the check
    character adds nothing to identity)."""
    return int(number[:17])


def person_keys(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Keys and a decided mask for a manifest of subject numbers.

    Args:
        values: the entries as sent.

    Returns:
        ``(keys, decided)``, int64 and bool arrays of ``len(values)``: ``decided[i]`` is True
        exactly when ``values[i]`` is an 18-character canonical resident ID that
        ``parse_subject`` accepts unchanged; then ``keys[i] == person_key(values[i])``, else 0.
        Undecided entries go to ``parse_subject``.
    """
    n = len(values)
    keys = np.zeros(n, dtype=np.int64)
    decided = np.zeros(n, dtype=bool)
    if n == 0:
        return keys, decided
    joined = "".join(values)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    if joined.isascii():  # the usual manifest: one C-speed test instead of one per entry
        shaped = lengths == 18
    else:
        shaped = (lengths == 18) & np.fromiter(map(str.isascii, values), dtype=bool, count=n)
    if shaped.all():
        picked = np.arange(n)
        raw = joined.encode("ascii")
    else:
        picked = np.flatnonzero(shaped)
        raw = "".join(compress(values, shaped)).encode("ascii")
    if picked.size == 0:
        return keys, decided
    chars = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    digits = chars[:, :17] - np.uint8(48)  # wraps below '0', so one bound checks both sides
    ok = (digits < 10).all(axis=1)
    body = digits.astype(np.int32)
    ok &= chars[:, 17] == _CHECK_BYTES[(body @ _WEIGHTS) % 11]
    year = body[:, 6] * 1000 + body[:, 7] * 100 + body[:, 8] * 10 + body[:, 9]
    month = body[:, 10] * 10 + body[:, 11]
    day = body[:, 12] * 10 + body[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    length = _DAYS[np.where(month_ok, month, 0)] + (leap & (month == 2))
    ok &= (year >= 1) & month_ok & (day >= 1) & (day <= length)
    address = body[:, 0] * 100000 + body[:, 1] * 10000 + body[:, 2] * 1000
    address += body[:, 3] * 100 + body[:, 4] * 10 + body[:, 5]
    ok &= assigned_table()[np.where(ok, address, 0)]  # non-digits would index out of range
    decided[picked] = ok
    key = (body[:, :9] @ _HIGH_POWERS).astype(np.int64) * 10**8 + body[:, 9:] @ _LOW_POWERS
    keys[picked] = np.where(ok, key, 0)
    return keys, decided
