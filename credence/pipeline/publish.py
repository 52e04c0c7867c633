"""Publish a draft rulebook (issue 13, DESIGN P10): only when it is lawful under the profiles it
names, takes effect no earlier than today, and a what-if report was made for this very text.

Publishing registers the published text as the scheme's version (``rulebooks.register``, so a
later use with any other text is refused, as for every published version) and writes one
``rulebook.published`` event holding the published text, its SHA-256, the draft's SHA-256, the
report's SHA-256 and the report's counts. The caller holds the writer lock; the file is
rewritten (``status: published``) only after the transaction commits.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from credence import audit
from credence.audit import EventTag
from credence.exc import CredenceError, RulebookError
from credence.lists.measures import default_measures
from credence.pipeline import rulebooks
from credence.rules import lint
from credence.rules.loader import LoadedRulebook, group, load_text
from credence.rules.schema import Status
from credence.store.orm import Rulebook

STATUS = re.compile(r"^status:[ \t]*draft[ \t]*$", re.MULTILINE)
# the report's counts carried into the event (the whole report may run to thousands of lines)
SUMMARY = ("as_of", "against", "subjects", "score_changed", "grade_changed", "listing_changed",
           "newly_scored", "no_longer_scored", "grades", "measures")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Published:
    scheme: str
    version: str
    sha256: str  # of the published text
    draft_sha256: str
    report_sha256: str


def published_text(draft: LoadedRulebook, text: str) -> str:
    """The draft's text with ``status: published``; the rest, comments included, unchanged."""
    changed, count = STATUS.subn("status: published", text)
    if count != 1:
        raise RulebookError(f"{draft.file}: expected one top-level line 'status: draft' to publish")
    return changed


def _report(draft: LoadedRulebook, report: bytes, where: str) -> dict[str, Any]:
    try:
        found = json.loads(report)
    except ValueError:
        raise CredenceError(f"{where}: not a what-if report (expected the JSON of rulebook simulate --json)") from None
    if not isinstance(found, dict) or "draft_sha256" not in found:
        raise CredenceError(f"{where}: not a what-if report (no draft_sha256; made by rulebook simulate --json)")
    if found["draft_sha256"] != draft.sha256:
        raise CredenceError(
            f"{where}: the what-if report is of another text (sha256 {str(found['draft_sha256'])[:12]}…, "
            f"the draft's is {draft.sha256[:12]}…); simulate this draft again"
        )
    return found


def check(draft: LoadedRulebook, report: bytes, *, report_file: str, today: date) -> dict[str, Any]:
    """Every precondition, in order; returns the report. Raises CredenceError naming the first
    that fails (a violation of a profile: all of them)."""
    book = draft.book
    if book.status is not Status.DRAFT:
        raise CredenceError(f"{draft.file}: {book.scheme} {book.version} is {book.status.value}, not a draft")
    if not book.profiles:
        raise CredenceError(f"{draft.file}: names no legal profile (profiles: [...]); a draft is published under some")
    violations = lint.lint(draft, lint.declared(draft), measures=default_measures(), today=today)
    if violations:
        lines = "; ".join(f"{v.where}: {v.profile}/{v.check} ({v.article}): {v.message}" for v in violations)
        raise CredenceError(f"{draft.file}: not lawful under its profiles, {len(violations)} violation(s): {lines}")
    if book.effective_from < today:
        raise CredenceError(
            f"{draft.file}: effective_from {book.effective_from} is in the past (today is {today}); "
            "a version never reaches back: give it a date from today on"
        )
    return _report(draft, report, report_file)


def _already(conn: Connection, draft: LoadedRulebook) -> str | None:
    found = conn.execute(
        select(Rulebook.status).where(Rulebook.scheme == draft.book.scheme, Rulebook.version == draft.book.version)
    ).scalar_one_or_none()
    return None if found in (None, Status.DRAFT.value) else found


def publish(
    engine: Engine,
    path: Path,
    report_path: Path,
    *,
    actor: str,
    today: date,
    now: datetime,
) -> Published:
    """Publish the draft at ``path`` with its what-if report at ``report_path`` (see the module)."""
    text = path.read_text("utf-8")
    draft = load_text(text, file=str(path))
    report = report_path.read_bytes()
    summary = check(draft, report, report_file=str(report_path), today=today)
    final = published_text(draft, text)
    loaded = load_text(final, file=str(path))
    done = Published(
        scheme=loaded.book.scheme,
        version=loaded.book.version,
        sha256=loaded.sha256,
        draft_sha256=draft.sha256,
        report_sha256=hashlib.sha256(report).hexdigest(),
    )
    with engine.begin() as conn:
        status = _already(conn, draft)
        if status is not None:
            raise CredenceError(f"{path}: {done.scheme} {done.version} is already {status} in this registry")
        rulebooks.register(conn, group([loaded]), now=now)
        audit.record(
            conn,
            tag=EventTag.RULEBOOK_PUBLISHED,
            subject=None,
            actor=actor,
            data={
                "scheme": done.scheme,
                "version": done.version,
                "sha256": done.sha256,
                "draft_sha256": done.draft_sha256,
                "report_sha256": done.report_sha256,
                "what_if": {key: summary.get(key) for key in SUMMARY},
                "text": final,
            },
            now=now,
        )
    temporary = path.with_name(path.name + ".publishing")
    temporary.write_text(final, encoding="utf-8")
    temporary.replace(path)
    return done
