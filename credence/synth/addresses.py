"""Street addresses of the synthetic residents: a street and a number in their district.

A person's address is drawn from a stream of its own, seeded by the seed and the person's ID
number, so that giving residents an address changed no other draw of a seed's city, and every
feed that writes a person's address (the household register, an unidentified export) writes
the same one.
"""

import hashlib
import random

# Common street names of Chinese cities (no DOMAIN.md figure): shared names across districts,
# so that a street alone never tells a district.
STREETS = (
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "新华路",
    "胜利路",
    "文化路",
    "长江路",
    "黄河路",
    "东风路",
    "青年路",
    "学府路",
    "工业园路",
    "花园街",
    "光明街",
    "团结路",
    "幸福路",
    "滨河路",
    "朝阳路",
    "干将路",
    "观前街",
    "石路",
    "金鸡湖大道",
    "成山大道",
    "海滨路",
)
MAX_NUMBER = 400


def street_address(rng: random.Random) -> str:
    return f"{rng.choice(STREETS)}{rng.randint(1, MAX_NUMBER)}号"


def _hashed(key: str) -> str:
    # a digest, not a seeded random.Random: seeding one costs ~6 us, a tenth of a person's feeds
    draw = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
    return f"{STREETS[draw % len(STREETS)]}{draw // len(STREETS) % MAX_NUMBER + 1}号"


def home_of(seed: int, id_number: str) -> str:
    """The street address a person lives at (in their district)."""
    return _hashed(f"{seed}/address/{id_number}")


def former_of(seed: int, id_number: str) -> str:
    """The street address a person who moved lived at before (in their former district)."""
    return _hashed(f"{seed}/address/former/{id_number}")
