"""The roles of issue 10 (DESIGN P7: least privilege) and what each may do, as data the code checks.

A principal acts in one role. What a role may do is the table ``GRANTS``, read by ``require``;
nothing grants a permission any other way. Scope is separate from permission: an agency may
submit records, but only of its authorised kinds and jurisdictions (``catalogue/sources.yaml``),
which the submission path checks on every row.

Enforced today: ``agency`` (``POST /v1/submissions``: a registered agency key acts as its source
in this role, and nothing else). The others are defined so that the routes and commands to come
(an officer's review, the second officer's approval, the auditor's reads, the administrator's
key and role management) check the same table; see docs/submissions.md for what is left.
"""

from enum import StrEnum

from credence.exc import NotAuthorisedError


class Role(StrEnum):
    AGENCY = "agency"  # submits records, of its authorised kinds and jurisdictions only
    OFFICER = "officer"  # reviews: quarantine, held batches, disputes of their agency
    SECOND_OFFICER = "second_officer"  # approves another officer's manual action
    AUDITOR = "auditor"  # reads the event log and the inquiry log
    ADMINISTRATOR = "administrator"  # keys and roles; never approves their own actions


class Permission(StrEnum):
    SUBMIT_RECORDS = "submit_records"
    REVIEW = "review"
    REQUEST_MANUAL_ACTION = "request_manual_action"
    APPROVE_MANUAL_ACTION = "approve_manual_action"
    READ_EVENT_LOG = "read_event_log"
    READ_INQUIRY_LOG = "read_inquiry_log"
    MANAGE_KEYS = "manage_keys"
    MANAGE_ROLES = "manage_roles"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.AGENCY: frozenset({Permission.SUBMIT_RECORDS}),
    Role.OFFICER: frozenset({Permission.REVIEW, Permission.REQUEST_MANUAL_ACTION}),
    Role.SECOND_OFFICER: frozenset({Permission.REVIEW, Permission.APPROVE_MANUAL_ACTION}),
    Role.AUDITOR: frozenset({Permission.READ_EVENT_LOG, Permission.READ_INQUIRY_LOG}),
    Role.ADMINISTRATOR: frozenset({Permission.MANAGE_KEYS, Permission.MANAGE_ROLES}),
}


class RoleRefusedError(NotAuthorisedError):
    """A principal acting beyond its role (HTTP 403, field ``role``)."""

    field = "role"


def may(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]


def require(role: Role, permission: Permission) -> None:
    """Refuse (``RoleRefusedError``) a principal in ``role`` doing what ``permission`` names."""
    if not may(role, permission):
        raise RoleRefusedError(f"role: the {role.value} role may not {permission.value.replace('_', ' ')}")
