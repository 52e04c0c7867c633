"""Compile rulebooks to SQL: one text per engine, one semantics.

The relation ``facts`` holds the record versions the registry knew at the chosen transaction
time, minus retractions, with every catalogue attribute as a typed column. In the store it is a
CTE over ``records`` (see ``facts_sql``); in DuckDB it is the snapshot table built from that CTE.
``subjects`` has ``id``, ``kind``, ``birth_date`` and ``address_code``.

Score semantics, per scheme and as-of date D:
- a record counts under the version in force at its valid date, and only if valid_date <= D and
  D is before its expiry (valid_date + the rule's ``expires_after``), brought forward by a
  granted credit repair where the rule allows one (``_repaired_expiry``), and D is outside the
  windows in which the registry suspended it while disputed (``_pieces``);
- a rule's points are summed per (subject, rule, version, cap period); a cap clamps that sum to
  [-max, max]; the score is base + the sum, clamped to [floor, ceiling], for covered subjects;
- per-record attribution under a cap uses the running sum in (valid_date, recorded_at,
  record_id) order, so the attributed points add up to exactly the capped total;
- "the latest" record of a kind (residence, consent) and "the first" extension or ending is
  decided in the same order: by valid date, then by what the registry learned last.

No rulebook value is pasted into the SQL text: ids, versions, kinds, grades, numbers and dates
are literals rendered by SQLGlot through ``Target``, field names are SQLGlot identifiers, and
expressions are SQLGlot trees (decision 0002). Titles and legal bases never reach the SQL.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from credence.model.catalogue import Catalogue
from credence.rules.loader import LoadedRulebook, Scheme
from credence.rules.targets import Target


@dataclass(frozen=True, slots=True)
class Query:
    """CTEs (name, body) and a final SELECT, to run after ``facts`` is in scope, with the values
    of its bind parameters (the subjects in scope, the instant known at)."""

    ctes: tuple[tuple[str, str], ...]
    select: str
    params: Mapping[str, object] = field(default_factory=dict)

    def sql(self, facts: str | None = None) -> str:
        ctes = ([("facts", facts)] if facts else []) + list(self.ctes)
        head = ",\n".join(f"{name} AS (\n{body}\n)" for name, body in ctes)
        return f"WITH {head}\n{self.select}" if head else self.select


SCOPE = "scope"  # the bind parameter holding the subjects a query is narrowed to
KNOWN_AT = "known_at"


def _in_list(target: Target, ids: Iterable[uuid.UUID]) -> str:
    return target.uuids(ids)


def scope_params(target: Target, scope: Sequence[uuid.UUID] | None) -> dict[str, object]:
    """The bind parameters of a query narrowed to ``scope`` (none when it is everyone)."""
    return {} if scope is None else {SCOPE: target.ids_value(scope)}


def facts_sql(
    target: Target,
    catalogue: Catalogue,
    *,
    known_at: datetime,
    scope: Sequence[uuid.UUID] | None = None,
) -> Query:
    """The current record versions as known at ``known_at``, attributes as typed columns: the
    body of the ``facts`` CTE as the ``select`` of a query with its parameters bound."""
    attrs = ",\n  ".join(
        f"{target.attribute('r.attributes', name, kind)} AS {target.identifier(name)}"
        for name, kind in sorted(catalogue.attribute_types().items())
    )
    narrowed = f"\n  AND {target.in_ids('r.subject_id', SCOPE)}" if scope is not None else ""
    known = target.instant_param(KNOWN_AT)
    # a later version is found by the unique (source, source record, version) index; left to
    # itself, SQLite takes the circuit breaker's (source, recorded_at) index instead and reads
    # every earlier record of the source for each record (15 ms against 0.2 ms for one subject's
    # 200 records, and quadratic in a source's size)
    later = target.unindexed("n.recorded_at")
    body = f"""SELECT r.id AS record_id, r.subject_id, r.source_id, r.source_record_id,
  r.kind, r.valid_date, r.recorded_at, r.jurisdiction,
  {attrs}
FROM records r
WHERE r.recorded_at <= {known} AND r.op = 'assert'{narrowed}
  AND NOT EXISTS (
    SELECT 1 FROM records n
    WHERE n.source_id = r.source_id AND n.source_record_id = r.source_record_id
      AND n.version > r.version AND {later} <= {known})"""
    return Query(ctes=(), select=body, params={KNOWN_AT: target.instant_value(known_at), **scope_params(target, scope)})


def _clamp(value: str, low: str, high: str) -> str:
    return f"CASE WHEN {value} < {low} THEN {low} WHEN {value} > {high} THEN {high} ELSE {value} END"


def _covered(scheme: LoadedRulebook, target: Target, *, as_of: date, scope: str) -> str:
    """Subjects the scheme covers on ``as_of``: one pass over residence (and consent) records with
    window functions, not a correlated subquery per record, so it scales to a national snapshot."""
    book = scheme.book
    if book.coverage is None:
        return f"SELECT s.id AS subject_id FROM subjects s WHERE {scope}"
    since = as_of - timedelta(days=book.coverage.residence_min_days)
    here = f"region LIKE {target.text(book.jurisdiction + '%')}"
    day, start = target.date(as_of), target.date(since)
    newest = "ORDER BY valid_date DESC, recorded_at DESC, record_id DESC"
    # registered (hukou) counts at once; a resident counts after living in the jurisdiction without
    # a break for the minimum: in it on the start day, and no move out (or 'left') since then.
    # A move between districts of the jurisdiction does not restart the clock.
    residence = f"""JOIN (
      SELECT subject_id,
        MAX(CASE WHEN last_now = 1 AND {here} AND status = 'registered' THEN 1 ELSE 0 END) AS registered,
        MAX(CASE WHEN last_now = 1 AND {here} AND status = 'resident' THEN 1 ELSE 0 END) AS resident,
        MAX(CASE WHEN last_start = 1 AND {here} AND status <> 'left' THEN 1 ELSE 0 END) AS there_at_start,
        MAX(CASE WHEN valid_date > {start} AND (NOT ({here}) OR status = 'left') THEN 1 ELSE 0 END) AS moved
      FROM (
        SELECT subject_id, region, status, valid_date, last_now,
          CASE WHEN valid_date <= {start} AND seen_by_start = 1 THEN 1 ELSE 0 END AS last_start
        FROM (
          -- one ordering for both windows, so engines sort once: the newest record, and the
          -- newest on or before the start day (the first of those in newest-first order)
          SELECT subject_id, region, status, valid_date,
            ROW_NUMBER() OVER (PARTITION BY subject_id {newest}) AS last_now,
            SUM(CASE WHEN valid_date <= {start} THEN 1 ELSE 0 END) OVER (
              PARTITION BY subject_id {newest} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS seen_by_start
          FROM facts WHERE kind = 'residence' AND valid_date <= {day}
        ) w
      ) r GROUP BY subject_id
    ) home ON home.subject_id = s.id
      AND (home.registered = 1 OR (home.resident = 1 AND home.there_at_start = 1 AND home.moved = 0))"""
    consent = ""
    if book.coverage.consent_required:
        consent = f"""
    JOIN (
      SELECT subject_id FROM (
        SELECT subject_id, granted, ROW_NUMBER() OVER (PARTITION BY subject_id {newest}) AS n
        FROM facts WHERE kind = 'scheme_consent' AND scheme = {target.text(book.scheme)} AND valid_date <= {day}
      ) c WHERE n = 1 AND granted
    ) agreed ON agreed.subject_id = s.id"""
    return f"""SELECT s.id AS subject_id FROM subjects s
    {residence}{consent}
    WHERE {scope} AND s.kind = 'person'"""


REPAIR_KIND = "credit_repair"


# A source's granted repairs, by the record they repair (its source_record_id): the first one
# counts. Only rules with a ``repair`` clause read them, so a repair never shortens a rule's
# count where the rulebook allows none.
def _repairs(target: Target) -> str:
    return (
        "SELECT source_id, repaired_record, MIN(valid_date) AS repaired_on FROM facts"
        f" WHERE kind = {target.text(REPAIR_KIND)} GROUP BY source_id, repaired_record"
    )


_REPAIRED = "rp.source_id = f.source_id AND rp.repaired_record = f.source_record_id"


def _repaired_expiry(target: Target, expiry: str, after_months: int) -> str:
    """The record's expiry, brought forward to its repair: the repair's day, but never before the
    rule's minimum period has run (a repair granted early takes effect when that period ends)."""
    earliest = target.add_months("f.valid_date", target.number(after_months))
    effect = f"CASE WHEN rp.repaired_on > {earliest} THEN rp.repaired_on ELSE {earliest} END"
    if expiry == "NULL":
        return f"CASE WHEN rp.repaired_on IS NULL THEN NULL ELSE {effect} END"
    return f"CASE WHEN rp.repaired_on IS NULL OR {effect} >= {expiry} THEN {expiry} ELSE {effect} END"


SUSPENSION_KIND = "record_suspension"
_PIECE_COLUMNS = (
    "w.record_id, w.subject_id, w.source_id, w.source_record_id, w.kind, w.valid_date, w.recorded_at,"
    " w.rule_id, w.rulebook_version, w.raw_points, w.period, w.cap"
)


def _suspensions(target: Target) -> str:
    return (
        "SELECT suspended_source, suspended_record, valid_date AS starts, resumes_on FROM facts"
        f" WHERE kind = {target.text(SUSPENSION_KIND)}"
    )


def _ends_at(start: str) -> str:
    """A piece's end: the suspension starting at ``start`` if it comes before the record's expiry."""
    before = f"(w.expires_on IS NULL OR {start} < w.expires_on)"
    return f"CASE WHEN {start} IS NOT NULL AND {before} THEN {start} ELSE w.expires_on END"


def _pieces(target: Target, whole: str) -> str:
    """The stretches of valid time in which each record of ``whole`` counts: from its valid date
    to its expiry, less the windows in which the registry suspended it (``record_suspension``
    records: a dispute that suspends its record, from the day it was filed; a dispute left
    unanswered, from the day after its deadline; each until ``resumes_on``, the day a timely
    answer came, or open). One row per stretch, ``counts_from`` to ``expires_on``; at most one
    dispute of a record is open at a time, so the windows do not overlap."""
    suspensions = _suspensions(target)
    first = (
        f"SELECT suspended_source, suspended_record, MIN(starts) AS starts FROM ({suspensions}) x"
        " GROUP BY suspended_source, suspended_record"
    )
    after = (
        f"(SELECT MIN(n.starts) FROM ({suspensions}) n WHERE n.suspended_source = r.suspended_source"
        " AND n.suspended_record = r.suspended_record AND n.starts >= r.resumes_on)"
    )
    on = "ON {a}.suspended_source = w.source_id AND {a}.suspended_record = w.source_record_id"
    return f"""  SELECT p.* FROM (
  SELECT {_PIECE_COLUMNS}, w.valid_date AS counts_from, {_ends_at("s.starts")} AS expires_on
  FROM {whole} w LEFT JOIN ({first}) s {on.format(a="s")}
  UNION ALL
  SELECT {_PIECE_COLUMNS}, r.resumes_on AS counts_from, {_ends_at(after)} AS expires_on
  FROM {whole} w JOIN ({suspensions}) r {on.format(a="r")} AND r.resumes_on IS NOT NULL
  ) p WHERE p.expires_on IS NULL OR p.counts_from < p.expires_on"""


def _matched(
    scheme: Scheme,
    target: Target,
    *,
    name: str,
    as_of: date | None,
    exclude: Sequence[uuid.UUID],
    capped: bool | None = None,
) -> list[tuple[str, str]]:
    """CTEs, the last named ``name``: every stretch of time in which a rule of its edition counts
    a record, with its points, cap group, ``counts_from`` and expiry; of records up to ``as_of``
    (their valid date on or before), or over all time when ``as_of`` is None; under the rules
    with a cap only (``capped``), without one, or all (None). ``rules.intervals`` asks over all
    time, and treats capped and uncapped rules apart."""
    return [(f"{name}_whole", _whole(scheme, target, as_of=as_of, exclude=exclude, capped=capped)),
            (name, _pieces(target, f"{name}_whole"))]  # fmt: skip


def _whole(
    scheme: Scheme,
    target: Target,
    *,
    as_of: date | None,
    exclude: Sequence[uuid.UUID],
    capped: bool | None,
) -> str:
    """Every record a rule of its edition counts, from its valid date to its expiry."""
    parts = []
    skip = f" AND f.record_id NOT IN ({_in_list(target, exclude)})" if exclude else ""
    for index, edition in enumerate(scheme.editions):
        start, end = scheme.window(index)
        if as_of is not None and start > as_of:
            break
        upper = f" AND f.valid_date < {target.date(end)}" if end else ""
        until = f" AND f.valid_date <= {target.date(as_of)}" if as_of is not None else ""
        for compiled in edition.rules:
            rule = compiled.rule
            if capped is not None and (rule.cap is not None) != capped:
                continue
            kinds = target.texts(rule.kinds)
            when = compiled.when.sql(target.dialect) if compiled.when else target.true
            period = target.year("f.valid_date") if rule.cap and rule.cap.per == "year" else "0"
            cap = target.number(rule.cap.max) if rule.cap else "NULL"
            expiry = (
                target.add_months("f.valid_date", target.number(rule.expires_after.total_months))
                if rule.expires_after
                else "NULL"
            )
            repaired = ""
            if rule.repair is not None:
                expiry = _repaired_expiry(target, expiry, rule.repair.after.total_months)
                repaired = f"\n  LEFT JOIN ({_repairs(target)}) rp ON {_REPAIRED}"
            parts.append(
                f"""  SELECT f.record_id, f.subject_id, f.source_id, f.source_record_id, f.kind, f.valid_date,
    f.recorded_at, {target.text(rule.id)} AS rule_id,
    {target.text(edition.book.version)} AS rulebook_version,
    CAST({compiled.points.sql(target.dialect)} AS BIGINT) AS raw_points,
    CAST({period} AS INTEGER) AS period, CAST({cap} AS BIGINT) AS cap,
    {target.as_date(expiry)} AS expires_on
  FROM facts f{repaired}
  WHERE f.kind IN ({kinds}) AND ({when})
    AND f.valid_date >= {target.date(start)}{upper}{until}{skip}"""
            )
    if not parts:
        return (
            "  SELECT f.record_id, f.subject_id, f.source_id, f.source_record_id, f.kind, f.valid_date,"
            " f.recorded_at, '' AS rule_id, '' AS rulebook_version,"
            " CAST(0 AS BIGINT) AS raw_points, CAST(0 AS INTEGER) AS period,"
            " CAST(NULL AS BIGINT) AS cap, NULL AS expires_on FROM facts f WHERE 1 = 0"
        )
    return "\n  UNION ALL\n".join(parts)


def _scope(target: Target, scope: Sequence[uuid.UUID] | None) -> str:
    return target.in_ids("s.id", SCOPE) if scope is not None else target.true


def _live(
    scheme: Scheme, target: Target, *, as_of: date, scope: Sequence[uuid.UUID] | None, exclude: Sequence[uuid.UUID]
) -> list[tuple[str, str]]:
    current = scheme.in_force(as_of)
    assert current is not None  # callers check  # noqa: S101
    return [
        ("covered", _covered(current, target, as_of=as_of, scope=_scope(target, scope))),
        *_matched(scheme, target, name="matched", as_of=as_of, exclude=exclude),
        (
            "live",
            f"""  SELECT m.* FROM matched m JOIN covered c ON c.subject_id = m.subject_id
  WHERE m.counts_from <= {target.date(as_of)} AND (m.expires_on IS NULL OR m.expires_on > {target.date(as_of)})""",
        ),
    ]


def score_query(
    scheme: Scheme,
    target: Target,
    *,
    as_of: date,
    scope: Sequence[uuid.UUID] | None = None,
    exclude: Sequence[uuid.UUID] = (),
) -> Query | None:
    """Scores and grades of the covered subjects as of ``as_of``: (subject_id, score, grade)."""
    current = scheme.in_force(as_of)
    if current is None or current.book.score is None:
        return None
    scale = current.book.score
    base, floor, ceiling = (target.number(n) for n in (scale.base, scale.floor, scale.ceiling))
    capped = _clamp("total", "-cap", "cap")
    grade = "NULL"
    if current.book.grades:
        whens = " ".join(
            f"WHEN score BETWEEN {target.number(b.min)} AND {target.number(b.max)} THEN {target.text(b.grade)}"
            for b in current.book.grades
        )
        grade = f"CASE {whens} END"
    ctes = [
        *_live(scheme, target, as_of=as_of, scope=scope, exclude=exclude),
        (
            "grouped",
            """  SELECT subject_id, rule_id, rulebook_version, period, MAX(cap) AS cap,
    SUM(raw_points) AS total
  FROM live GROUP BY subject_id, rule_id, rulebook_version, period""",
        ),
        (
            "totals",
            f"""  SELECT subject_id, SUM(CASE WHEN cap IS NULL THEN total ELSE {capped} END) AS delta
  FROM grouped GROUP BY subject_id""",
        ),
        (
            "scored",
            f"""  SELECT c.subject_id,
    CAST({_clamp(f"({base} + COALESCE(t.delta, 0))", floor, ceiling)} AS INTEGER) AS score
  FROM covered c LEFT JOIN totals t ON t.subject_id = c.subject_id""",
        ),
    ]
    select = f"SELECT subject_id, score, {grade} AS grade FROM scored"
    return Query(ctes=tuple(ctes), select=select, params=scope_params(target, scope))


def without_each_query(
    scheme: Scheme, target: Target, *, as_of: date, scope: Sequence[uuid.UUID] | None = None
) -> Query | None:
    """For each record counting on ``as_of``, its subject's score without it, every rule's use of
    it left out (what ``score_query`` with ``exclude=[record]`` gives, caps included), for all
    records in one statement: (record_id, subject_id, score). An explanation's counterfactuals."""
    current = scheme.in_force(as_of)
    if current is None or current.book.score is None:
        return None
    scale = current.book.score
    base, floor, ceiling = (target.number(n) for n in (scale.base, scale.floor, scale.ceiling))
    capped = _clamp("total", "-cap", "cap")
    # leaving a record out changes only the (rule, period) groups it counts in: each loses the
    # record's raw points and is capped again, so one pass over the lines gives every
    # counterfactual (leaving each out in turn and rescoring was quadratic in a subject's lines)
    ctes = [
        *_live(scheme, target, as_of=as_of, scope=scope, exclude=()),
        (
            "grouped",
            """  SELECT subject_id, rule_id, rulebook_version, period, MAX(cap) AS cap, SUM(raw_points) AS total
  FROM live GROUP BY subject_id, rule_id, rulebook_version, period""",
        ),
        (
            "totals",
            f"""  SELECT subject_id, SUM(CASE WHEN cap IS NULL THEN total ELSE {capped} END) AS delta
  FROM grouped GROUP BY subject_id""",
        ),
        (
            "mine",
            """  SELECT subject_id, record_id, rule_id, rulebook_version, period, SUM(raw_points) AS points
  FROM live GROUP BY subject_id, record_id, rule_id, rulebook_version, period""",
        ),
        (
            "changes",
            f"""  SELECT m.subject_id, m.record_id, SUM(CASE WHEN g.cap IS NULL THEN m.points
    ELSE ({_clamp("g.total", "-g.cap", "g.cap")}) - ({_clamp("(g.total - m.points)", "-g.cap", "g.cap")}) END) AS change
  FROM mine m JOIN grouped g ON g.subject_id = m.subject_id AND g.rule_id = m.rule_id
    AND g.rulebook_version = m.rulebook_version AND g.period = m.period
  GROUP BY m.subject_id, m.record_id""",
        ),
    ]
    score = _clamp(f"({base} + t.delta - x.change)", floor, ceiling)
    select = f"""SELECT x.record_id, x.subject_id, CAST({score} AS INTEGER) AS score
FROM changes x JOIN totals t ON t.subject_id = x.subject_id"""
    return Query(ctes=tuple(ctes), select=select, params=scope_params(target, scope))


def items_query(
    scheme: Scheme, target: Target, *, as_of: date, scope: Sequence[uuid.UUID] | None = None
) -> Query | None:
    """Each counting record's attributed points: the lines of an explanation."""
    current = scheme.in_force(as_of)
    if current is None or current.book.score is None:
        return None
    run = "run"
    prev = "(run - raw_points)"
    points = f"({_clamp(run, '-cap', 'cap')}) - ({_clamp(prev, '-cap', 'cap')})"
    ctes = [
        *_live(scheme, target, as_of=as_of, scope=scope, exclude=()),
        (
            "ranked",
            """  SELECT l.*, SUM(raw_points) OVER (
      PARTITION BY subject_id, rule_id, rulebook_version, period
      ORDER BY valid_date, recorded_at, record_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
  FROM live l""",
        ),
    ]
    select = f"""SELECT subject_id, record_id, source_id, source_record_id, kind, rule_id, rulebook_version,
  valid_date, expires_on, raw_points,
  CASE WHEN cap IS NULL THEN raw_points ELSE {points} END AS points, cap, period
FROM ranked ORDER BY valid_date, recorded_at, record_id, rule_id"""
    return Query(ctes=tuple(ctes), select=select, params=scope_params(target, scope))


def listing_query(
    book: LoadedRulebook,
    index: int,
    target: Target,
    *,
    window: tuple[date, date | None],
    scope: Sequence[uuid.UUID] | None = None,
) -> Query:
    """Listings from decision records: start, scheduled end, and the first ending event.

    Columns: record_id, subject_id, case_number, court, ground, start_date, end_date,
    end_reason, and one column per bound role.
    """
    compiled = book.lists[index]
    rule = compiled.rule
    start, end = window
    upper = f" AND f.valid_date < {target.date(end)}" if end else ""
    excluded = (
        f"COALESCE({compiled.excluded_when.sql(target.dialect)}, {target.false})" if compiled.excluded_when else None
    )
    whens = " ".join(
        f"WHEN {cond.sql(target.dialect)} THEN {target.number(months) if months is not None else 'NULL'}"
        for cond, months in compiled.durations
    )
    binds = "".join(f", {target.column(role, table='f')} AS {target.identifier(role)}" for role in rule.binds)
    scoped = f" AND {_scope(target, scope)}" if scope is not None else ""
    adult = target.add_months("f.valid_date", target.number(-12 * rule.min_age))
    key, ground, court = (target.identifier(name) for name in (rule.key, rule.ground, rule.court))
    not_excluded = f" AND NOT ({excluded})" if excluded else ""
    ctes: list[tuple[str, str]] = [
        (
            "decisions",
            f"""  SELECT f.record_id, f.subject_id, f.{key} AS case_number, f.{court} AS court,
    f.{ground} AS ground, f.valid_date AS start_date,
    CAST(CASE {whens} END AS INTEGER) AS term_months{binds}
  FROM facts f JOIN subjects s ON s.id = f.subject_id
  WHERE f.kind = {target.text(rule.decision_kind)} AND f.valid_date >= {target.date(start)}{upper}{scoped}
    AND (s.kind <> 'person' OR s.birth_date <= {adult}){not_excluded}""",
        ),
    ]
    extension = "0"
    if rule.extension:
        ext = rule.extension
        # an extension counts only if decided while the original term still runs
        term_end = target.add_months("d.start_date", "d.term_months")
        ctes.append(
            (
                "extensions",
                f"""  SELECT d.record_id, {target.column(ext.attribute, table="e")} AS amount,
    ROW_NUMBER() OVER (PARTITION BY d.record_id ORDER BY e.valid_date, e.recorded_at, e.record_id) AS n
  FROM decisions d JOIN facts e ON e.subject_id = d.subject_id AND e.kind = {target.text(ext.kind)}
    AND e.{key} = d.case_number AND e.valid_date >= d.start_date
    AND d.term_months IS NOT NULL AND e.valid_date < {term_end}""",
            )
        )
        ctes.append(
            (
                "extended",
                f"""  SELECT record_id, SUM(amount) AS years FROM extensions WHERE n <= {target.number(ext.times)}
  GROUP BY record_id""",
            )
        )
        extension = "COALESCE((SELECT x.years FROM extended x WHERE x.record_id = d.record_id), 0)"
    kinds = target.texts(rule.ending_kinds)
    ctes.append(
        (
            "endings",
            f"""  SELECT d.record_id, e.valid_date, {target.column(rule.ending_reason, table="e")} AS reason,
    ROW_NUMBER() OVER (PARTITION BY d.record_id ORDER BY e.valid_date, e.recorded_at, e.record_id) AS n
  FROM decisions d JOIN facts e ON e.subject_id = d.subject_id AND e.kind IN ({kinds})
    AND e.{key} = d.case_number AND e.valid_date >= d.start_date""",
        )
    )
    scheduled = (
        f"CASE WHEN d.term_months IS NULL THEN NULL "
        f"ELSE {target.add_months('d.start_date', f'd.term_months + 12 * {extension}')} END"
    )
    ctes.append(
        (
            "dated",
            f"""  SELECT d.*, {target.as_date(scheduled)} AS scheduled_end,
    e.valid_date AS ended_on, e.reason AS ending_reason
  FROM decisions d LEFT JOIN endings e ON e.record_id = d.record_id AND e.n = 1""",
        )
    )
    roles = "".join(f", {target.identifier(role)}" for role in rule.binds)
    select = f"""SELECT record_id, subject_id, case_number, court, ground, start_date,
  CASE WHEN ended_on IS NOT NULL AND (scheduled_end IS NULL OR ended_on < scheduled_end)
       THEN ended_on ELSE scheduled_end END AS end_date,
  CASE WHEN ended_on IS NOT NULL AND (scheduled_end IS NULL OR ended_on < scheduled_end)
       THEN ending_reason WHEN scheduled_end IS NOT NULL THEN 'term_ended' END AS end_reason{roles}
FROM dated ORDER BY start_date, record_id"""
    return Query(ctes=tuple(ctes), select=select, params=scope_params(target, scope))


def exemptions_query() -> Query:
    """Every one-off exemption a deciding court granted (a ``consumption_exemption`` record): its
    record, subject, case, action, day and reason."""
    return Query(
        ctes=(),
        select="""SELECT record_id, subject_id, case_number, action, valid_date AS day, reason FROM facts
WHERE kind = 'consumption_exemption'""",
    )
