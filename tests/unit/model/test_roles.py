"""The roles are data: every role has its grants, only the agency submits records, and no one
both requests and approves a manual action or manages keys and approves."""

import pytest

from credence.model.roles import GRANTS, Permission, Role, RoleRefusedError, may, require


def test_every_role_has_its_grants() -> None:
    assert set(GRANTS) == set(Role)


def test_only_the_agency_submits_records() -> None:
    assert [r for r in Role if may(r, Permission.SUBMIT_RECORDS)] == [Role.AGENCY]
    require(Role.AGENCY, Permission.SUBMIT_RECORDS)
    with pytest.raises(RoleRefusedError, match="the officer role may not submit records"):
        require(Role.OFFICER, Permission.SUBMIT_RECORDS)


def test_no_role_holds_two_duties_that_must_be_two_people() -> None:
    separated = [
        {Permission.REQUEST_MANUAL_ACTION, Permission.APPROVE_MANUAL_ACTION},
        {Permission.MANAGE_KEYS, Permission.APPROVE_MANUAL_ACTION},
        {Permission.MANAGE_ROLES, Permission.REVIEW},
    ]
    for role, grants in GRANTS.items():
        for pair in separated:
            assert not pair <= grants, (role, pair)
