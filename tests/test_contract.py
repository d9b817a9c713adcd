"""The API keeps the promises of its own OpenAPI document under generated input.

Schemathesis reads the document the app serves and, in this process, sends every
operation generated requests, valid ones and deliberately invalid ones, signed in as
each role and with no token at all. Each response must pass:

- ``not_a_server_error``: never a 5xx (503 only when the database is away, never here);
- ``status_code_conformance``: the status is one the document lists for the operation;
- ``content_type_conformance``: the media type is the documented one (problem+json
  for refusals);
- ``response_schema_conformance``: the body matches the documented schema;
- ``negative_data_rejection``: input that breaks the document is refused with a 4xx.

A second test follows the document's links as a state machine: create a case, read
it, move it with the ETag it was given, note it; a worker requests a case and
withdraws it. Each role runs on a database of its own.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.schemas import BaseSchema

from service.api.access import PERMISSION, PUBLIC, SCOPES
from service.app import create_app
from service.config import Settings
from service.domain.access import Role, can
from tests.conftest import Clock
from tests.factory import ADMIN_PASSWORD, API, PASSWORD, Api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
ANONYMOUS = "anonymous"
ROLES = ("admin", "security", "auditor", "steward", "liaison", "worker", "official", ANONYMOUS)
DEPTH = ("steward", "liaison", "worker", "official", "auditor", "security", "admin", ANONYMOUS)
"""Which role explores an operation in depth: the first here that the handler lets in
(the people who use it every day before the administrator, who may do nearly all)."""
DEEP_EXAMPLES = 6
"""Generated requests per operation and mode (valid, invalid) for the role that explores it."""
EXAMPLES = 2
"""The same for every other role the handler lets in."""
REFUSED_EXAMPLES = 1
"""Valid requests per operation for a role the handler's guard turns away: the role alone
decides the answer (401 or 403), whatever the request holds."""
STATEFUL_SCENARIOS = 25
"""Sequences of linked calls per role."""
SESSION_ENDING = ("POST /api/v1/auth/logout", "POST /api/v1/auth/login")
"""Run last, in this order: signing out ends the caller's session, and generated
sign-ins with wrong passwords earn the client address a pause."""


@dataclass
class Caller:
    """The role's bearer token; signing out (a generated request may) ends it, and the
    next request gets a new one."""

    role: str
    sign_in: Callable[[], str]
    token: str | None = None
    failures: list[str] = field(default_factory=list)

    def headers(self) -> dict[str, str]:
        if self.role == ANONYMOUS:
            return {}
        if self.token is None:
            self.token = self.sign_in()
        return {"Authorization": f"Bearer {self.token}"}

    def examples(self, opt: Mapping[str, Any]) -> int:
        if not lets_in(self.role, opt):
            return REFUSED_EXAMPLES
        explorer = next(role for role in DEPTH if lets_in(role, opt))
        return DEEP_EXAMPLES if explorer == self.role else EXAMPLES


def lets_in(role: str, opt: Mapping[str, Any]) -> bool:
    """Whether a handler with ``opt`` lets ``role`` past its guard (else the role alone
    decides the answer: 401 or 403)."""
    if opt.get(PUBLIC) or (PERMISSION not in opt and SCOPES not in opt):
        return True  # public, or outside /api/v1 where no guard runs
    if role == ANONYMOUS:
        return False
    if SCOPES in opt:
        return True
    return can(Role(role), opt[PERMISSION])


def _handler_options(app: Litestar) -> dict[str, Mapping[str, Any]]:
    """Each documented operation's handler ``opt``, by its label ("GET /api/v1/cases")."""
    options: dict[str, Mapping[str, Any]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    options[f"{method} {route.path_format}"] = handler.opt
    return options


def _ordered(schema: BaseSchema) -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation of the document cannot be read: {result}"
        operations.append(result.ok())
    last = {label: i for i, label in enumerate(SESSION_ENDING)}
    return sorted(operations, key=lambda op: last.get(op.label, -1))


def _settings(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _fuzz(schema: BaseSchema, app: Litestar, caller: Caller) -> None:
    options = _handler_options(app)
    with get_client(cast(Any, app)) as http:
        for operation in _ordered(schema):
            examples = caller.examples(options[operation.label])
            allowed = lets_in(caller.role, options[operation.label])
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if allowed else (GenerationMode.POSITIVE,):

                @hypothesis.given(operation.as_strategy(generation_mode=mode))
                @_settings(examples)
                def run(case: Case[Any]) -> None:
                    headers = caller.headers()
                    response = case.call(session=http, headers=headers)
                    if case.operation.label == "POST /api/v1/auth/logout" and response.status_code == 204:
                        caller.token = None
                    case.validate_response(response, checks=CHECKS, headers=headers)

                try:
                    run()
                except hypothesis.errors.Unsatisfiable:
                    # Every input the document allows is valid (no parameters, or only
                    # free strings): there is no invalid request to send. Valid ones
                    # always exist.
                    if mode is not GenerationMode.NEGATIVE:
                        caller.failures.append(f"{operation.label}: no valid request could be generated")
                except (Exception, BaseExceptionGroup) as failure:  # a failed check: go on, report all at the end
                    caller.failures.append(f"{operation.label} ({mode.value}):\n{textwrap.indent(str(failure), '  ')}")


@dataclass(frozen=True)
class World:
    accounts: dict[str, tuple[str, str]]
    """An account of every role: user name and password."""
    worker_id: str
    """The worker account's own record, registered to the steward account's staff record."""
    item_id: str
    """WL-01 of 2026, active."""


async def _world(client: AsyncTestClient[Litestar]) -> World:
    admin = Api(client)
    steward = await admin.steward()
    liaison = await admin.ok(
        "POST", "/staff", 201, json={"name": "赵联络", "role": "liaison", "department_code": "housing"}
    )
    record = await admin.worker(steward["id"])
    item = await admin.item()
    await admin.case(worker_id=record["id"], item_id=item["id"])
    accounts = {"admin": ("admin", ADMIN_PASSWORD)}
    links: dict[str, dict[str, str]] = {
        "steward": {"staff_id": steward["id"]},
        "liaison": {"staff_id": liaison["id"]},
        "worker": {"worker_id": record["id"]},
        "official": {"district_code": "yubei"},
    }
    for role in ROLES[1:-1]:
        await admin.account(role, username=f"contract-{role}", **links.get(role, {}))
        accounts[role] = (f"contract-{role}", PASSWORD)
    return World(accounts, record["id"], item["id"])


def _sign_in(app: Litestar, username: str, password: str) -> Callable[[], str]:
    def sign_in() -> str:
        with get_client(cast(Any, app)) as http:
            response = http.post(f"{API}/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    return sign_in


@pytest.fixture
def contract_app(settings: Settings, clock: Clock) -> Iterator[Litestar]:
    app = create_app(settings, clock=clock)
    try:
        yield app
    finally:
        shutdown_lifespans()


@pytest.mark.parametrize("role", ROLES)
async def test_every_operation_keeps_its_contract(
    role: str, client: AsyncTestClient[Litestar], contract_app: Litestar
) -> None:
    world = await _world(client)
    schema = _schema(contract_app)
    caller = Caller(role, sign_in=_sign_in(contract_app, *world.accounts.get(role, ("", ""))))
    _fuzz(schema, contract_app, caller)
    assert not caller.failures, "\n\n".join(caller.failures)


def _schema(app: Litestar) -> BaseSchema:
    schema = schemathesis.openapi.from_asgi("/docs/openapi.json", app)
    # The caller's own token goes with every request; generated credentials would only
    # be refused with 401 before anything else is read.
    schema.config.generation.update(with_security_parameters=False)
    return schema


CREATIONS = {"POST /api/v1/cases", "POST /api/v1/my/cases"}
WORKFLOWS = {
    "steward": r"^/api/v1/cases(/\{case_id\}(/(transitions|notes|events))?)?$",
    "worker": r"^/api/v1/my/cases",
}
"""The operations each role's state machine moves among."""
LINKED_STEPS = {
    "steward": ("POST /api/v1/cases", "POST /api/v1/cases/{case_id}/transitions"),
    "worker": ("POST /api/v1/my/cases", "GET /api/v1/my/cases/{case_id}"),
}
"""For each role run as a state machine: the creation, and a step only a link can reach
(it needs the created case's id, and for a move its ETag), each of which must succeed at
least once."""


@pytest.mark.parametrize("role", sorted(LINKED_STEPS))
async def test_the_links_lead_from_a_new_case_to_its_next_steps(
    role: str, client: AsyncTestClient[Litestar], contract_app: Litestar
) -> None:
    """Schemathesis follows the document's links: a case created, then read, moved with
    the ETag it came with, noted, edited, withdrawn. Creations are pointed at the
    world's worker and an active item (random ids would only meet 404s), the rest of each
    request is generated."""
    world = await _world(client)
    schema = _schema(contract_app).include(path_regex=WORKFLOWS[role])
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])  # invalid input: the other test
    schema.config.phases.stateful.inference.algorithms = []  # the document's own links, no guessed ones
    caller = Caller(role, sign_in=_sign_in(contract_app, *world.accounts[role]))
    succeeded: set[str] = set()
    failures: list[str] = []

    with get_client(cast(Any, contract_app)) as http:

        class Workflow(schema.as_state_machine()):  # type: ignore[misc]
            def before_call(self, case: Case[Any]) -> None:
                if case.operation.label in CREATIONS:
                    case.headers["Idempotency-Key"] = str(uuid.uuid4())
                if case.operation.label in CREATIONS and isinstance(case.body, dict):
                    case.body["item_id"] = world.item_id
                    if "worker_id" in case.body:
                        case.body["worker_id"] = world.worker_id
                        case.body.pop("steward_id", None)  # the worker's own, and
                        case.body.pop("department_code", None)  # the item's lead department

            def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
                return {"headers": caller.headers(), "session": http}

            def validate_response(self, response: Any, case: Case[Any], *args: Any, **kwargs: Any) -> None:
                if 200 <= response.status_code < 300:
                    succeeded.add(case.operation.label)
                try:
                    case.validate_response(response, checks=CHECKS, headers=caller.headers())
                except (Exception, BaseExceptionGroup) as failure:
                    failures.append(f"{case.operation.label}:\n{textwrap.indent(str(failure), '  ')}")

        Workflow.run(
            settings=hypothesis.settings(
                max_examples=STATEFUL_SCENARIOS,
                stateful_step_count=8,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
        )
    assert not failures, "\n\n".join(failures)
    assert set(LINKED_STEPS[role]) <= succeeded, succeeded
