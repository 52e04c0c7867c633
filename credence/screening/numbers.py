"""Placeholder until the vectorized version lands (helper branch `numbers`)."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from credence.exc import FieldError
from credence.model.identifiers import ResidentId, parse_subject


def person_keys(values: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    keys = np.zeros(len(values), dtype=np.int64)
    decided = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        try:
            parsed = parse_subject(value)
        except FieldError:
            continue
        if isinstance(parsed, ResidentId) and parsed.number == value:
            keys[i] = int(value[:17])
            decided[i] = True
    return keys, decided
