"""What the OpenAPI document promises about refusals, so that clients (and contract
tests) can rely on it.

Every operation lists the RFC 9457 problem+json responses it can give, derived from what
the handler takes (path parameters, a body, ``If-Match``) and from whether it needs a
sign-in; a handler adds the rare ones it alone gives through ``opt["problems"]``. A 429
or 503 carries ``Retry-After``, a 412 the case's current ``ETag``. Public handlers are
documented without a security requirement, and the responses that create or return a
case, a worker, a staff member or an account carry OpenAPI links to the operations that
take its id next (read it, move it, note it), so a client can follow the workflow from
the document alone.

Applied to the registered handlers once the app is built, before the document is first
generated (Litestar builds it lazily), so the served document and the committed one in
``openapi/`` come from the same rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from litestar import Litestar

# Litestar's own schema for msgspec Structs (not exported under a public name); the
# subclass below only adds what it leaves out.
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar._openapi.schema_generation.schema import SchemaCreator
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Link, OpenAPIHeader, OpenAPIMediaType, Operation, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import ParameterKwarg
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from schemas.problem import Problem
from service.api.access import PUBLIC

PROBLEM_JSON = "application/problem+json"
PROBLEMS = "problems"
"""``opt`` key: statuses a handler gives beyond those the rules below derive."""
DOWNLOADS = "downloads"
"""``opt`` key: the media types a handler's file download may have (by its ``format``)."""
API_PREFIX = "/api/"

DESCRIPTIONS: Mapping[int, str] = {
    400: "The request is malformed: a parameter or field has the wrong type, format, length or range.",
    401: "No valid access token (or, for sign-in, wrong credentials).",
    403: "The caller's role or session may not do this.",
    404: "No such record within the caller's reach.",
    408: "The request body arrived too slowly.",
    409: "The change conflicts with the record's current state; nothing was written.",
    412: "If-Match names an older version; the current ETag is returned.",
    413: "The request body is larger than this operation accepts.",
    422: "The request is well formed but breaks a rule of the programme; nothing was written.",
    428: "This change needs If-Match with the version it was based on.",
    429: "Too many requests; wait for Retry-After seconds.",
    503: (
        "The database or the rate-limit store is unavailable, or the change collided with a concurrent one "
        "and was rolled back; retry after Retry-After seconds."
    ),
}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def problem_statuses(route: HTTPRoute, handler: HTTPRouteHandler) -> set[int]:
    """The refusals ``handler`` can answer with, by the rules every handler follows."""
    signature = handler.parsed_fn_signature.parameters
    takes_query = _takes_query(route, handler)
    statuses = set(handler.opt.get(PROBLEMS, ()))
    if route.path_parameters or takes_query or "data" in signature:
        statuses.add(400)
    if not route.path.startswith(API_PREFIX):
        return statuses
    statuses.add(503)
    if not handler.opt.get(PUBLIC):
        statuses |= {401, 403}
    if route.path_parameters:
        statuses.add(404)
    if "data" in signature:
        statuses |= {408, 413, 422}
    if set(handler.http_methods) & WRITES and not handler.opt.get(PUBLIC):
        statuses |= {409, 422}
    if takes_query:
        statuses.add(422)
    if "if_match" in signature:
        statuses |= {412, 428}
    return statuses


QUERY_DEPENDENCIES = frozenset({"paging", "filters"})
"""Dependencies that read query parameters of their own (page size, metric filters)."""
NOT_QUERY = frozenset({"request", "state", "scope", "data", "headers", "cookies"})


def _takes_query(route: HTTPRoute, handler: HTTPRouteHandler) -> bool:
    """Reads whose query parameters are checked against each other (date ranges,
    filters, a receipt's code) refuse with 422; one that takes no query never does."""
    dependencies = handler.resolve_dependencies()
    for name, field in handler.parsed_fn_signature.parameters.items():
        if name in QUERY_DEPENDENCIES:
            return True
        if name in dependencies or name in NOT_QUERY or name in route.path_parameters:
            continue
        kwarg = field.kwarg_definition
        if isinstance(kwarg, ParameterKwarg) and (kwarg.header or kwarg.cookie):
            continue
        return True
    return False


# --------------------------------------------------------------------------- links


@dataclasses.dataclass(frozen=True)
class Follow:
    """A link from one response to an operation that takes the id it returns."""

    name: str
    method: str
    path: str
    parameter: str
    with_etag: bool = False


CASE = "/api/v1/cases/{case_id}"
MY_CASE = "/api/v1/my/cases/{case_id}"
CASE_NEXT = (
    Follow("ReadCase", "get", CASE, "case_id"),
    Follow("MoveCase", "post", CASE + "/transitions", "case_id", with_etag=True),
    Follow("EditCase", "patch", CASE, "case_id", with_etag=True),
    Follow("NoteCase", "post", CASE + "/notes", "case_id"),
    Follow("CaseTimeline", "get", CASE + "/events", "case_id"),
)
MY_CASE_NEXT = (
    Follow("ReadMyCase", "get", MY_CASE, "case_id"),
    Follow("WithdrawMyCase", "post", MY_CASE + "/withdraw", "case_id"),
    Follow("AnswerMaterials", "post", MY_CASE + "/materials", "case_id"),
)
LINKS: Mapping[tuple[str, str], tuple[Follow, ...]] = {
    ("POST", "/api/v1/cases"): CASE_NEXT,
    ("GET", CASE): CASE_NEXT[1:],
    ("POST", CASE + "/transitions"): CASE_NEXT[:2],
    ("PATCH", CASE): CASE_NEXT[:2],
    ("POST", "/api/v1/my/cases"): MY_CASE_NEXT,
    ("POST", "/api/v1/workers"): (
        Follow("ReadWorker", "get", "/api/v1/workers/{worker_id}", "worker_id"),
        Follow("EditWorker", "patch", "/api/v1/workers/{worker_id}", "worker_id"),
        Follow("WorkerStewards", "get", "/api/v1/workers/{worker_id}/stewards", "worker_id"),
    ),
    ("POST", "/api/v1/staff"): (
        Follow("ReadStaff", "get", "/api/v1/staff/{staff_id}", "staff_id"),
        Follow("EditStaff", "patch", "/api/v1/staff/{staff_id}", "staff_id"),
    ),
    ("POST", "/api/v1/accounts"): (
        Follow("ReadAccount", "get", "/api/v1/accounts/{account_id}", "account_id"),
        Follow("EditAccount", "patch", "/api/v1/accounts/{account_id}", "account_id"),
    ),
}


def _operation_ref(method: str, path: str) -> str:
    pointer = path.replace("~", "~0").replace("/", "~1").replace("{", "%7B").replace("}", "%7D")
    return f"#/paths/{pointer}/{method}"


def _link(follow: Follow) -> Link:
    parameters: dict[str, Any] = {f"path.{follow.parameter}": "$response.body#/id"}
    if follow.with_etag:
        parameters["header.If-Match"] = "$response.header.ETag"
    return Link(operation_ref=_operation_ref(follow.method, follow.path), parameters=parameters)


# --------------------------------------------------------------------------- operations


def _header(description: str, schema: Schema) -> OpenAPIHeader:
    return OpenAPIHeader(schema=schema, description=description)


RETRY_AFTER = _header("Seconds to wait before trying again.", Schema(type=OpenAPIType.INTEGER, minimum=0))
BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
CURRENT_ETAG = _header("The record's current version.", Schema(type=OpenAPIType.STRING))
HEADERS_BY_STATUS: Mapping[str, Mapping[str, OpenAPIHeader]] = {
    "429": {"Retry-After": RETRY_AFTER},
    "503": {"Retry-After": RETRY_AFTER},
    "412": {"ETag": CURRENT_ETAG},
}


class DocumentedOperation(Operation):
    """An operation with headers on its refusals, its links and, when public, no
    security requirement. Subclassed per handler with the class attributes below."""

    public: ClassVar[bool] = False
    follows: ClassVar[tuple[Follow, ...]] = ()
    downloads: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if self.public:
            self.security = []
        for status, response in (self.responses or {}).items():
            if isinstance(response, Reference):
                continue
            if self.downloads and status.startswith("2"):
                response.description = "The file"
                response.content = {media: OpenAPIMediaType(schema=BINARY) for media in self.downloads}
            headers = HEADERS_BY_STATUS.get(status)
            if headers:
                response.headers = {**(response.headers or {}), **headers}
            if self.follows and status.startswith("2"):
                response.links = {follow.name: _link(follow) for follow in self.follows}


def _operation_class(public: bool, follows: tuple[Follow, ...], downloads: tuple[str, ...]) -> type[Operation]:
    if not public and not follows and not downloads:
        return _PLAIN
    attributes = {"public": public, "follows": follows, "downloads": downloads}
    return dataclasses.dataclass(type("DocumentedOperation", (DocumentedOperation,), attributes))


_PLAIN: type[Operation] = dataclasses.dataclass(type("DocumentedOperation", (DocumentedOperation,), {}))


class ClosedStructs(StructSchemaPlugin):
    """Request bodies refuse fields they do not know (``forbid_unknown_fields``); their
    schemas say so with ``additionalProperties: false``."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def document_errors(app: Litestar) -> None:
    """Give every registered handler its problem responses, headers and links."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            statuses = problem_statuses(route, handler)
            specs = {
                status: ResponseSpec(
                    data_container=Problem,
                    media_type=PROBLEM_JSON,
                    description=DESCRIPTIONS[status],
                    generate_examples=False,
                )
                for status in sorted(statuses)
            }
            handler.responses = {**specs, **(handler.responses or {})}
            follows = tuple(
                follow for method in handler.http_methods for follow in LINKS.get((method, route.path_format), ())
            )
            handler.operation_class = _operation_class(
                bool(handler.opt.get(PUBLIC)), follows, tuple(handler.opt.get(DOWNLOADS, ()))
            )
