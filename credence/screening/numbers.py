"""Which manifest entries are canonical resident IDs, and their index keys.

``person_keys`` gives, for each value, its key (``int(value[:17])``) and whether it was decided
here: only a value ``parse_subject`` accepts unchanged as a resident ID is decided; everything
else takes the caller's exact per-entry path, which owns the error message. This version still
calls ``parse_subject`` per entry (about 1 µs of the 2 µs an entry costs a manifest); a numpy
version of the same rules (digits, ISO 7064 check character, birth date, address code) is the
next step to the screening goal (BENCHMARKS.md).
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from credence.exc import FieldError
from credence.model.identifiers import ResidentId, parse_subject


def person_keys(values: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(keys, decided) for ``values``: decided exactly where ``parse_subject`` returns a resident
    ID whose number is the value itself."""
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
