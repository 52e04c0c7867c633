"""A notice as its receiver reads it: the mail (Chinese first, the English version below) and
the short SMS, rendered from the templates in ``templates/notices`` and the notice's own
snapshotted facts. Rendering computes nothing, so a notice sent again says what it said."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

LANGUAGES = ("zh-CN", "en")
RULE = "\n\n" + "-" * 40 + "\n\n"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str  # the mail's subject line: Chinese / English
    text: str  # the mail's body, both languages
    sms: str


@cache
def environment() -> Environment:
    # plain text, not HTML: nothing to escape, and StrictUndefined turns a fact a template
    # names but the notice lacks into an error instead of a blank in a legal notice
    return Environment(
        loader=PackageLoader("credence.dueprocess", "templates/notices"),
        undefined=StrictUndefined,
        trim_blocks=False,  # a tag at a line's end must not eat its newline; _tidy folds the blanks
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # noqa: S701 - text mail and SMS, never HTML
    )


def render(
    *, id: uuid.UUID, kind: str, facts: dict[str, Any], respond_by: date | None, created_at: datetime
) -> Rendered:
    notice = {"id": str(id), "respond_by": respond_by.isoformat() if respond_by else None, "created_at": created_at}
    env = environment()
    parts = {}
    for language in LANGUAGES:
        text = env.get_template(f"{language}/{kind}.txt.j2").render(notice=notice, facts=facts)
        title, _, body = text.partition("\n")
        parts[language] = (title.strip(), _tidy(body))
    (zh_title, zh_body), (en_title, en_body) = parts["zh-CN"], parts["en"]
    sms = env.get_template("sms.txt.j2").render(notice=notice, subject_zh=zh_title, subject_en=en_title)
    return Rendered(subject=f"{zh_title} / {en_title}", text=zh_body + RULE + en_body + "\n", sms=sms.strip())


def _tidy(body: str) -> str:
    """Blank lines the optional parts leave are folded to one."""
    lines: list[str] = []
    for line in body.strip().splitlines():
        if line.strip() or (lines and lines[-1]):
            lines.append(line.rstrip())
    return "\n".join(lines).strip()
