"""Scores as intervals of valid time: when each subject's score, grade and edition change.

``score_query`` answers for one day; this answers for all days at once. Its rows are
(subject_id, valid_from, valid_to, score, grade, rulebook_version), half-open, per subject
non-overlapping and maximal, ``valid_to`` NULL for "until further notice". The contract: for
every day D, the rows whose interval holds D are exactly ``score_query(as_of=D)``'s rows.

The score is a step function of valid time, built in a fixed number of window passes (never the
point query once per day, never a correlated subquery per record):
- each counting record adds its points on its valid date and takes them back on its expiry;
- a cap group's (subject, rule, version, period) running total moves only on those days, in one
  window over the capped rules' records alone; each step changes the clamped total by
  clamp(total) - clamp(total - step), and one day's steps add up to the day's change in any order;
- coverage, per edition (each has its own jurisdiction, minimum days and consent), can only
  change on a residence or consent record's valid date, a residence record's valid date plus the
  minimum days, or the edition's start and end; it is evaluated exactly on those days, by the
  same tests as the point query, and is constant between them;
- the subject's timeline is those days, one row per day (only for subjects covered on some
  day); one running pass gives coverage and points from each day on, and the running sums less
  the day's changes, under the edition in force the day before, give the state just before it.
  A day starts an interval where the two differ, and the next such day ends it.
"""

import uuid
from collections.abc import Sequence

from credence.rules.compile import Query, _clamp, _matched, _scope, scope_params
from credence.rules.loader import LoadedRulebook, Scheme
from credence.rules.targets import Dialect, Target

# a residence mark's flags, packed under its ordinal (see _coverage): the newest record wins a MAX
REGISTERED, RESIDENT, THERE, FLAGS = 1, 2, 4, 8


def _plus_days(target: Target, day: str, days: int) -> str:
    """``day`` plus ``days`` (negative: minus); ``day`` is the compiler's own SQL expression."""
    if target.dialect is Dialect.SQLITE:  # SQLite keeps dates as ISO text
        return f"date({day}, printf('%+d days', {target.number(days)}))"
    return f"CAST(({day}) + {target.number(days)} AS DATE)"


def _bit(value: str, flag: int) -> str:
    """Whether ``flag`` (the compiler's own constant) is set in a packed mark; NULL, so not true,
    when there is no mark."""
    return f"({value} % {2 * flag}) >= {flag}"


def _coverage(
    scheme: Scheme, index: int, target: Target, *, scope: Sequence[uuid.UUID] | None
) -> list[tuple[str, str]]:
    """CTEs ending in ``cover_<index>``: (subject_id, day, dcov), +1 where edition ``index``
    starts covering a subject and -1 where it stops, within the edition's window."""
    edition = scheme.editions[index]
    book = edition.book
    start, end = scheme.window(index)
    first, last = target.date(start), (target.date(end) if end else None)
    name = f"cover_{index}"
    if book.coverage is None:  # everyone in scope, for the whole window
        ends = f"\n  UNION ALL SELECT s.id, {last}, -1 FROM subjects s WHERE {_scope(target, scope)}" if last else ""
        return [
            (
                name,
                f"""  SELECT s.id AS subject_id, {first} AS day, 1 AS dcov
  FROM subjects s WHERE {_scope(target, scope)}{ends}""",
            )
        ]
    cover = book.coverage
    here = f"f.region LIKE {target.text(book.jurisdiction + '%')}"
    minimum = cover.residence_min_days
    consent = (
        f" OR (f.kind = 'scheme_consent' AND f.scheme = {target.text(book.scheme)})" if cover.consent_required else ""
    )
    flags = (
        f"CASE WHEN {here} AND f.status = 'registered' THEN {REGISTERED} ELSE 0 END"
        f" + CASE WHEN {here} AND f.status = 'resident' THEN {RESIDENT} ELSE 0 END"
        f" + CASE WHEN {here} AND f.status <> 'left' THEN {THERE} ELSE 0 END"
    )
    within = f" AND day <= {last}" if last else ""
    open_end = f"\n    UNION SELECT subject_id, {last} FROM marks_{index}" if last else ""
    in_window = f"day < {last} AND " if last else ""
    agreed = f" AND ({_bit('con_now', 1)})" if cover.consent_required else ""
    # residence and consent marks: each record's ordinal (per subject and kind, in the point
    # query's order: valid date, then what the registry learned last) packed above its flags, so
    # that a running MAX picks the newest record's flags in the same pass as the running count of
    # moves out; the point query's tests, case for case, so NULLs fall the same way
    marks = f"""  SELECT f.subject_id, f.valid_date AS day,
    CASE WHEN f.kind = 'residence' THEN 1 ELSE 0 END AS is_res,
    ROW_NUMBER() OVER (PARTITION BY f.subject_id, f.kind ORDER BY f.valid_date, f.recorded_at, f.record_id) AS n,
    CASE WHEN f.kind = 'residence' THEN {flags} ELSE CASE WHEN f.granted THEN 1 ELSE 0 END END AS flags,
    CASE WHEN f.kind = 'residence' AND (NOT ({here}) OR f.status = 'left') THEN 1 ELSE 0 END AS bad
  FROM facts f JOIN subjects s ON s.id = f.subject_id
  WHERE (f.kind = 'residence'{consent}) AND s.kind = 'person' AND {_scope(target, scope)}"""
    # the days coverage may change on, within the window (its start and end included)
    probes = f"""  SELECT subject_id, day FROM (
    SELECT subject_id, day FROM marks_{index}
    UNION SELECT subject_id, {_plus_days(target, "day", minimum)} FROM marks_{index} WHERE is_res = 1
    UNION SELECT subject_id, {first} FROM marks_{index}{open_end}
  ) d WHERE day >= {first}{within}"""
    nothing = "CAST(NULL AS BIGINT)"
    sequence = f"""  SELECT subject_id, day, 1 AS probe, day AS probed, 0 AS role,
    {nothing} AS res, {nothing} AS con, {nothing} AS bad
  FROM probes_{index}
  UNION ALL
  SELECT subject_id, {_plus_days(target, "day", -minimum)}, 1, day, 1, {nothing}, {nothing}, {nothing}
  FROM probes_{index}
  UNION ALL
  SELECT subject_id, day, 0, day, 2,
    CASE WHEN is_res = 1 THEN n * {FLAGS} + flags END, CASE WHEN is_res = 0 THEN n * 2 + flags END,
    CASE WHEN is_res = 1 THEN bad END
  FROM marks_{index}"""
    running = "PARTITION BY subject_id ORDER BY day, probe ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    scanned = f"""  SELECT subject_id, probed, role, MAX(res) OVER ({running}) AS res, MAX(con) OVER ({running}) AS con,
    SUM(bad) OVER ({running}) AS bad, probe
  FROM sequence_{index}"""
    # role 0 looks at the day itself, role 1 at the day the minimum residence began
    state = f"""  SELECT subject_id, probed AS day,
    MAX(CASE WHEN role = 0 THEN res END) AS res_now, MAX(CASE WHEN role = 1 THEN res END) AS res_start,
    COALESCE(MAX(CASE WHEN role = 0 THEN bad END), 0) - COALESCE(MAX(CASE WHEN role = 1 THEN bad END), 0) AS moves,
    MAX(CASE WHEN role = 0 THEN con END) AS con_now
  FROM scanned_{index} WHERE probe = 1 GROUP BY subject_id, probed"""
    covered = (
        f"CASE WHEN {in_window}({_bit('res_now', REGISTERED)} OR ({_bit('res_now', RESIDENT)}"
        f" AND {_bit('res_start', THERE)} AND moves = 0)){agreed} THEN 1 ELSE 0 END"
    )
    flagged = f"""  SELECT subject_id, day, {covered} AS covered FROM state_{index}"""
    changes = f"""  SELECT subject_id, day,
    covered - LAG(covered, 1, 0) OVER (PARTITION BY subject_id ORDER BY day) AS dcov
  FROM flagged_{index}"""
    return [
        (f"marks_{index}", marks),
        (f"probes_{index}", probes),
        (f"sequence_{index}", sequence),
        (f"scanned_{index}", scanned),
        (f"state_{index}", state),
        (f"flagged_{index}", flagged),
        (name, changes),
    ]


def _by_edition(scheme: Scheme, target: Target, value: "dict[int, str]", *, column: str = "day") -> str:
    """A CASE choosing ``value[i]`` on the days edition i is in force (NULL where none is given)."""
    whens = []
    for index in reversed(range(len(scheme.editions))):
        start, _ = scheme.window(index)
        whens.append(f"WHEN {column} >= {target.date(start)} THEN {value.get(index, 'NULL')}")
    return f"CASE {' '.join(whens)} END"


def _grade(book: LoadedRulebook, target: Target, score: str) -> str:
    if not book.book.grades:
        return "NULL"
    whens = " ".join(
        f"WHEN {score} BETWEEN {target.number(b.min)} AND {target.number(b.max)} THEN {target.text(b.grade)}"
        for b in book.book.grades
    )
    return f"CASE {whens} END"


def score_intervals_query(
    scheme: Scheme,
    target: Target,
    *,
    scope: Sequence[uuid.UUID] | None = None,
    exclude: Sequence[uuid.UUID] = (),
) -> Query | None:
    """Intervals of valid time over which each covered subject's score, grade and edition are
    constant: (subject_id, valid_from, valid_to, score, grade, rulebook_version)."""
    scored = [i for i, e in enumerate(scheme.editions) if e.book.score is not None]
    if not scored:
        return None
    ctes: list[tuple[str, str]] = []
    for index in scored:
        ctes += _coverage(scheme, index, target, scope=scope)
    # points matter only to subjects covered at some time: the others' records are left out early
    ever = " UNION ".join(f"SELECT subject_id FROM cover_{i} WHERE dcov > 0" for i in scored)
    ctes.append(("ever", f"  SELECT DISTINCT subject_id FROM ({ever}) c"))
    signs = (
        "ever v ON v.subject_id = m.subject_id\n"
        "  JOIN (SELECT 1 AS sign UNION ALL SELECT -1) e ON e.sign = 1 OR m.expires_on IS NOT NULL"
    )
    day = "CASE WHEN e.sign = 1 THEN m.counts_from ELSE m.expires_on END"
    # a record's points on the day it starts counting, and their return when it stops
    sources = [
        f"""  SELECT m.subject_id, {day} AS day, 0 AS dcov, e.sign * COALESCE(m.raw_points, 0) AS ddelta
  FROM uncapped m JOIN {signs}"""
    ]
    ctes += _matched(scheme, target, name="uncapped", as_of=None, exclude=exclude, capped=False)
    if any(c.rule.cap for e in scheme.editions for c in e.rules):
        ctes += _matched(scheme, target, name="capped", as_of=None, exclude=exclude, capped=True)
        # a cap group's running total; the days' steps in any order, as the clamped changes of
        # one day add up to the change of the clamped total over that day either way
        ctes.append(
            (
                "totals",
                f"""  SELECT m.subject_id, {day} AS day, m.cap, e.sign * COALESCE(m.raw_points, 0) AS change,
    SUM(e.sign * COALESCE(m.raw_points, 0)) OVER (
      PARTITION BY m.subject_id, m.rule_id, m.rulebook_version, m.period ORDER BY {day}
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total
  FROM capped m JOIN {signs}""",
            )
        )
        clamped = f"({_clamp('total', '-cap', 'cap')}) - ({_clamp('(total - change)', '-cap', 'cap')})"
        sources.append(f"  SELECT subject_id, day, 0, {clamped} FROM totals")
    sources += [f"  SELECT subject_id, day, dcov, 0 FROM cover_{i} WHERE dcov <> 0" for i in scored]
    ctes.append(("changes", "\n  UNION ALL\n".join(sources)))
    # a day on which nothing moves cannot start an interval (an edition's start may, by itself)
    starts = " ".join(f"OR day = {target.date(e.book.effective_from)}" for e in scheme.editions)
    ctes.append(
        (
            "timeline",
            f"""  SELECT subject_id, day, SUM(dcov) AS dcov, SUM(ddelta) AS ddelta FROM changes GROUP BY subject_id, day
  HAVING SUM(dcov) <> 0 OR SUM(ddelta) <> 0 {starts}""",
        )
    )
    running = "PARTITION BY subject_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    ctes.append(
        (
            "running",
            f"""  SELECT subject_id, day, dcov, ddelta, SUM(dcov) OVER ({running}) AS covered,
    SUM(ddelta) OVER ({running}) AS delta
  FROM timeline""",
        )
    )
    # the state from this day on, and the state just before it (the day before's, under the
    # edition in force that day): the running sums less this day's changes
    scales: dict[int, str] = {}
    earlier: dict[int, str] = {}
    versions: dict[int, str] = {}
    grades_now: dict[int, str] = {}
    grades_before: dict[int, str] = {}
    for index in scored:
        book = scheme.editions[index]
        scale = book.book.score
        assert scale is not None  # noqa: S101 - only scored editions are listed
        base, floor, ceiling = (target.number(n) for n in (scale.base, scale.floor, scale.ceiling))
        scales[index] = _clamp(f"({base} + delta)", floor, ceiling)
        earlier[index] = _clamp(f"({base} + delta - ddelta)", floor, ceiling)
        versions[index] = target.text(book.book.version)
        grades_now[index] = _grade(book, target, "score")
        grades_before[index] = _grade(book, target, "was_score")
    yesterday = _plus_days(target, "day", -1)
    ctes.append(
        (
            "valued",
            f"""  SELECT subject_id, day, covered, covered - dcov AS was_covered,
    CASE WHEN covered = 1 THEN CAST({_by_edition(scheme, target, scales)} AS INTEGER) END AS score,
    CASE WHEN covered - dcov = 1 THEN CAST({_by_edition(scheme, target, earlier, column=yesterday)} AS INTEGER) END
      AS was_score,
    CASE WHEN covered = 1 THEN {_by_edition(scheme, target, versions)} END AS rulebook_version,
    CASE WHEN covered - dcov = 1 THEN {_by_edition(scheme, target, versions, column=yesterday)} END AS was_version
  FROM running""",
        )
    )
    ctes.append(
        (
            "graded",
            f"""  SELECT subject_id, day, covered, was_covered, score, was_score, rulebook_version, was_version,
    CASE WHEN covered = 1 THEN {_by_edition(scheme, target, grades_now)} END AS grade,
    CASE WHEN was_covered = 1 THEN {_by_edition(scheme, target, grades_before, column=yesterday)} END AS was_grade
  FROM valued""",
        )
    )
    # a row starts an interval where something changed; uncovered rows stay long enough to end one
    ctes.append(
        (
            "starts",
            """  SELECT subject_id, day, covered, score, grade, rulebook_version,
    LEAD(day) OVER (PARTITION BY subject_id ORDER BY day) AS valid_to
  FROM graded
  WHERE covered <> was_covered
    OR (covered = 1 AND (score <> was_score OR rulebook_version <> was_version
      OR COALESCE(grade, '') <> COALESCE(was_grade, '')))""",
        )
    )
    select = """SELECT subject_id, day AS valid_from, valid_to, score, grade, rulebook_version
FROM starts WHERE covered = 1"""
    return Query(ctes=tuple(ctes), select=select, params=scope_params(target, scope))
