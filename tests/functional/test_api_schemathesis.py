"""Schemathesis against the gate's own OpenAPI spec, over HTTP to ``credence serve``: generated
valid and invalid requests never get a 5xx, and every response matches the spec (status code,
content type, headers, body). At least 500 cases per operation with a body in CI."""

import os
from collections.abc import Iterator
from pathlib import Path

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.common.gate import Served, add_provider, build, registry_for_module, serve

CASES = 500 if os.environ.get("CI") else 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    template: Path = request.getfixturevalue("sqlite_template")
    with registry_for_module("sqlite", template, tmp) as engine:
        build(engine, tmp)
        key = add_provider(engine, "fuzzer", "flight,rail_ticket,venue,phone_call", rate="1000000/s")
        with serve(engine, tmp) as gate:
            yield gate, key


def test_every_operation_answers_as_its_spec_says(served: tuple[Served, str]) -> None:
    gate, key = served
    schema = schemathesis.openapi.from_url(f"{gate.base}/openapi.json")
    auth = {"Authorization": f"Bearer {key}"}
    sent: dict[str, int] = {}
    for operation in schema.get_all_operations():
        op = operation.ok()
        cases = st.one_of(
            op.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
            op.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
        )
        has_body = op.body is not None and len(op.body) > 0

        @settings(
            max_examples=CASES if has_body else 5,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=gate.base, headers=auth, checks=CHECKS, timeout=30)
            sent[case.operation.label] = sent.get(case.operation.label, 0) + 1

        run()
    assert sent.get("POST /v1/checks", 0) >= CASES, sent
    assert sent.get("POST /v1/submissions", 0) >= CASES, sent


def test_without_a_key_every_check_is_401(served: tuple[Served, str]) -> None:
    gate, _ = served
    schema = schemathesis.openapi.from_url(f"{gate.base}/openapi.json")
    op = schema["/v1/checks"]["POST"]

    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(base_url=gate.base, checks=CHECKS, timeout=30)
        assert response.status_code in (401, 413, 415, 422), response.text

    run()
